"""Studio: build, review and run the backend of your app on Supabase."""

__version__ = "0.1.0"
