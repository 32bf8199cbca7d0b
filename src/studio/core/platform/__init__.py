"""Supabase's hosted platform: the Management API client, sign-in, accounts and project provisioning."""
