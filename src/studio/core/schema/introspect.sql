-- Studio's catalog query: the whole user schema of a database as one JSON document, in one round trip.
-- :excluded is replaced by a text[] literal of schemas to leave out (Supabase-managed ones by default).
-- Every list is ordered so the same schema always gives the same text (its sha256 is the fingerprint).
-- Runs on PostgreSQL 15 and later (the oldest Supabase runs).
with
ns as (
  select n.oid, n.nspname, n.nspacl, n.nspowner
  from pg_namespace n
  where n.nspname <> all (:excluded)
    and n.nspname not like 'pg\_%'
    and n.nspname <> 'information_schema'
    and not exists (select 1 from pg_depend d
                    where d.classid = 'pg_namespace'::regclass and d.objid = n.oid and d.deptype = 'e')
),
-- objects that belong to an extension are the extension's business, never ours
ext_member as (
  select d.classid, d.objid from pg_depend d where d.deptype = 'e'
),
rel as (
  select c.oid, c.relname, c.relkind, c.relnamespace, ns.nspname, c.reltype, c.relrowsecurity,
         c.relforcerowsecurity, c.relpersistence, c.relispartition, c.reloptions, c.relacl, c.relowner,
         c.reltuples, c.relhassubclass
  from pg_class c join ns on ns.oid = c.relnamespace
  where c.relkind in ('r', 'p', 'v', 'm', 'S', 'f', 'c', 'i', 'I')
    and not exists (select 1 from ext_member e where e.classid = 'pg_class'::regclass and e.objid = c.oid)
),
typ as (
  select t.oid, t.typname, t.typtype, t.typcategory, t.typnamespace, ns.nspname, t.typrelid, t.typarray, t.typbasetype,
         t.typtypmod, t.typnotnull, t.typdefault, t.typcollation, t.typacl
  from pg_type t join ns on ns.oid = t.typnamespace
  where not exists (select 1 from ext_member e where e.classid = 'pg_type'::regclass and e.objid = t.oid)
),
fn as (
  select p.oid, p.proname, p.prokind, ns.nspname, p.proacl, p.proowner
  from pg_proc p join ns on ns.oid = p.pronamespace
  where not exists (select 1 from ext_member e where e.classid = 'pg_proc'::regclass and e.objid = p.oid)
    -- functions made by the server for a type (a range type's constructors) come and go with the type
    and not exists (select 1 from pg_depend d where d.classid = 'pg_proc'::regclass and d.objid = p.oid
                                                and d.deptype = 'i')
),
not_null as materialized (
  -- PostgreSQL 18 keeps NOT NULL as named constraints; materialized so it is hashed, not probed per column
  select k.oid, k.conrelid, k.conkey[1] as attnum, k.conname from pg_constraint k where k.contype = 'n'
),
descr as (
  -- comments, joined (obj_description() per row costs a query per object)
  select d.objoid, d.classoid, d.objsubid, d.description from pg_description d where d.objoid >= 16384
),
acl_roles as (
  -- grants are compared for PUBLIC and Supabase's API roles only
  select 0::oid as oid, 'PUBLIC'::text as rolname
  union all
  select r.oid, r.rolname::text from pg_roles r where r.rolname in ('anon', 'authenticated', 'service_role')
),
doc as materialized (
select json_build_object(
  'server_version', current_setting('server_version_num')::int,
  'schemas', (
    select coalesce(json_agg(json_build_object(
      'oid', ns.oid, 'name', ns.nspname,
      'comment', obj_description(ns.oid, 'pg_namespace'),
      'grants', (select json_agg(json_build_array(ar.rolname, x.privilege_type, x.is_grantable)
                                 order by ar.rolname, x.privilege_type)
                 from aclexplode(coalesce(ns.nspacl, acldefault('n', ns.nspowner))) x
                 join acl_roles ar on ar.oid = x.grantee)
    ) order by ns.nspname), '[]') from ns
  ),
  'extensions', (
    select coalesce(json_agg(json_build_object(
      'oid', x.oid, 'name', x.extname, 'schema', n.nspname, 'version', x.extversion
    ) order by x.extname), '[]')
    from pg_extension x join pg_namespace n on n.oid = x.extnamespace
    where x.extname <> 'plpgsql'
  ),
  'types', (
    select coalesce(json_agg(json_build_object(
      'oid', t.oid, 'schema', t.nspname, 'name', t.typname, 'type', t.typtype, 'array_oid', t.typarray,
      'relid', nullif(t.typrelid, 0),
      'labels', case when t.typtype = 'e' then (
          select json_agg(e.enumlabel order by e.enumsortorder) from pg_enum e where e.enumtypid = t.oid) end,
      'attributes', case when t.typtype = 'c' then (
          select json_agg(json_build_object(
            'name', a.attname, 'type', format_type(a.atttypid, a.atttypmod),
            'collation', case when a.attcollation <> 0 and a.attcollation <> tt.typcollation
                              then (select quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                                    from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace
                                    where co.oid = a.attcollation) end
          ) order by a.attnum)
          from pg_attribute a join pg_type tt on tt.oid = a.atttypid
          where a.attrelid = t.typrelid and a.attnum > 0 and not a.attisdropped) end,
      'base_type', case when t.typtype = 'd' then format_type(t.typbasetype, t.typtypmod) end,
      'not_null', t.typnotnull,
      'default', t.typdefault,
      'constraints', case when t.typtype = 'd' then (
          select coalesce(json_agg(json_build_object('name', k.conname, 'definition', pg_get_constraintdef(k.oid))
                                   order by k.conname), '[]')
          from pg_constraint k where k.contypid = t.oid and k.contype = 'c') end,
      'comment', obj_description(t.oid, 'pg_type')
    ) order by t.nspname, t.typname), '[]')
    from typ t
    where (t.typtype in ('e', 'd', 'r', 'm', 'p') or (t.typtype = 'b' and t.typcategory <> 'A'))
       or (t.typtype = 'c' and exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
  ),
  -- The large lists are positional arrays (json_build_array is several times cheaper than
  -- json_build_object, here and in the client's parser); introspect.py names the positions.
  -- relations: [oid, schema, name, kind, rowtype, rls, force_rls, persistence, partition, inherits,
  --             partition_key, options, view_definition, view_rule, sequence, owned_by, comment, grants]
  'relations', (
    select coalesce(json_agg(json_build_array(
      r.oid, r.nspname, r.relname, r.relkind, r.reltype, r.relrowsecurity, r.relforcerowsecurity,
      r.relpersistence, r.relispartition,
      case when r.relhassubclass or r.relispartition or exists (select 1 from pg_inherits i where i.inhrelid = r.oid)
        then (select json_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) order by i.inhseqno)
              from pg_inherits i join pg_class pc on pc.oid = i.inhparent
              join pg_namespace pn on pn.oid = pc.relnamespace where i.inhrelid = r.oid) end,
      case when r.relkind = 'p' then pg_get_partkeydef(r.oid) end,
      r.reloptions,
      case when r.relkind in ('v', 'm') then pg_get_viewdef(r.oid) end,
      case when r.relkind in ('v', 'm') then (
          select rw.oid from pg_rewrite rw where rw.ev_class = r.oid and rw.rulename = '_RETURN') end,
      case when r.relkind = 'S' then (
          select json_build_array(format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin, s.seqmax,
                                  s.seqcache, s.seqcycle)
          from pg_sequence s where s.seqrelid = r.oid) end,
      case when r.relkind = 'S' then (
          select json_build_array(d.refobjid, a.attname)
          from pg_depend d join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
          where d.classid = 'pg_class'::regclass and d.objid = r.oid
            and d.refclassid = 'pg_class'::regclass and d.deptype = 'a' and d.refobjsubid > 0
          limit 1) end,
      rd.description,
      (select json_agg(json_build_array(ar.rolname, x.privilege_type, x.is_grantable)
                       order by ar.rolname, x.privilege_type)
       from aclexplode(coalesce(r.relacl, acldefault((case when r.relkind = 'S' then 's' else 'r' end)::"char",
                                                      r.relowner))) x
       join acl_roles ar on ar.oid = x.grantee)
    ) order by r.nspname, r.relname), '[]')
    from rel r
    left join descr rd on rd.objoid = r.oid and rd.classoid = 'pg_class'::regclass and rd.objsubid = 0
    where r.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
      -- a sequence behind an identity column is part of the column
      and not (r.relkind = 'S' and exists (
          select 1 from pg_depend d where d.classid = 'pg_class'::regclass and d.objid = r.oid
                                      and d.refclassid = 'pg_class'::regclass and d.deptype = 'i'))
  ),
  -- columns: [table, num, name, type, not_null, default, default_oid, generated_kind, generated_expression,
  --           identity, collation, comment, grants, not_null_name]
  'columns', (
    select coalesce(json_agg(json_build_array(
      r.oid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
      case when a.attgenerated = '' then pg_get_expr(ad.adbin, ad.adrelid) end,
      ad.oid,
      nullif(a.attgenerated, ''),
      case when a.attgenerated <> '' then pg_get_expr(ad.adbin, ad.adrelid) end,
      nullif(a.attidentity, ''),
      case when a.attcollation <> 0 and a.attcollation <> t.typcollation
           then (select quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                 from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace
                 where co.oid = a.attcollation) end,
      cd.description,
      case when a.attacl is not null then (
          select json_agg(json_build_array(ar.rolname, x.privilege_type, x.is_grantable)
                          order by ar.rolname, x.privilege_type)
          from aclexplode(a.attacl) x join acl_roles ar on ar.oid = x.grantee) end,
      nn.conname
    ) order by r.oid, a.attnum), '[]')
    from rel r
    join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
    join pg_type t on t.oid = a.atttypid
    left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
    left join descr cd on cd.objoid = r.oid and cd.classoid = 'pg_class'::regclass and cd.objsubid = a.attnum
    -- older servers have no contype 'n' rows: the name is null there
    left join not_null nn on nn.conrelid = a.attrelid and nn.attnum = a.attnum
    where r.relkind in ('r', 'p', 'f')
  ),
  -- constraints: [oid, table, name, type, definition, index, inherited, comment]
  'constraints', (
    select coalesce(json_agg(json_build_array(
      k.oid, k.conrelid, k.conname, k.contype, pg_get_constraintdef(k.oid), nullif(k.conindid, 0),
      not k.conislocal, kd.description
    ) order by k.conrelid, k.conname), '[]')
    from pg_constraint k join rel r on r.oid = k.conrelid
    left join descr kd on kd.objoid = k.oid and kd.classoid = 'pg_constraint'::regclass and kd.objsubid = 0
    where k.contype in ('p', 'u', 'f', 'c', 'x')
  ),
  -- indexes: [oid, table, schema, name, definition, valid, comment]
  'indexes', (
    select coalesce(json_agg(json_build_array(
      i.indexrelid, i.indrelid, r.nspname, r.relname, pg_get_indexdef(i.indexrelid), i.indisvalid, idd.description
    ) order by r.nspname, r.relname), '[]')
    from pg_index i join rel r on r.oid = i.indexrelid
    left join descr idd on idd.objoid = i.indexrelid and idd.classoid = 'pg_class'::regclass and idd.objsubid = 0
    where not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid
                                                      and k.conrelid = i.indrelid
                                                      and k.contype in ('p', 'u', 'x'))
      and not exists (select 1 from pg_inherits ih where ih.inhrelid = i.indexrelid)
  ),
  -- policies: [oid, table, name, command, permissive, roles, using, check, comment]
  'policies', (
    select coalesce(json_agg(json_build_array(
      p.oid, p.polrelid, p.polname, p.polcmd, p.polpermissive,
      (select json_agg(case when ro = 0 then 'public' else pg_get_userbyid(ro)::text end order by 1)
       from unnest(p.polroles) ro),
      pg_get_expr(p.polqual, p.polrelid), pg_get_expr(p.polwithcheck, p.polrelid), pd.description
    ) order by p.polrelid, p.polname), '[]')
    from pg_policy p join rel r on r.oid = p.polrelid
    left join descr pd on pd.objoid = p.oid and pd.classoid = 'pg_policy'::regclass and pd.objsubid = 0
  ),
  'functions', (
    select coalesce(json_agg(json_build_object(
      'oid', f.oid, 'schema', f.nspname, 'name', f.proname, 'kind', f.prokind,
      'identity_arguments', pg_get_function_identity_arguments(f.oid),
      'arguments', pg_get_function_arguments(f.oid),
      'result', pg_get_function_result(f.oid),
      'definition', case when f.prokind in ('f', 'p') then pg_get_functiondef(f.oid) end,
      'comment', obj_description(f.oid, 'pg_proc'),
      'grants', (
          select json_agg(json_build_array(ar.rolname, x.privilege_type, x.is_grantable)
                          order by ar.rolname, x.privilege_type)
          from aclexplode(coalesce(f.proacl, acldefault('f', f.proowner))) x
          join acl_roles ar on ar.oid = x.grantee)
    ) order by f.nspname, f.proname, pg_get_function_identity_arguments(f.oid)), '[]')
    from fn f
  ),
  'triggers', (
    select coalesce(json_agg(json_build_object(
      'oid', g.oid, 'table', g.tgrelid, 'name', g.tgname,
      'definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled,
      'comment', obj_description(g.oid, 'pg_trigger')
    ) order by g.tgrelid, g.tgname), '[]')
    from pg_trigger g join rel r on r.oid = g.tgrelid
    where not g.tgisinternal and g.tgparentid = 0
  ),
  'publications', (
    select coalesce(json_agg(json_build_object(
      'publication', p.pubname, 'table', pr.prrelid,
      'filtered', pr.prqual is not null, 'column_list', pr.prattrs is not null
    ) order by p.pubname, pr.prrelid), '[]')
    from pg_publication p join pg_publication_rel pr on pr.prpubid = p.oid
    join rel r on r.oid = pr.prrelid
  ),
  'default_grants', (
    -- what a new object gets without any GRANT, when the current user creates it: the built-in or global
    -- default ACL plus the schema's ALTER DEFAULT PRIVILEGES
    -- [schema, type, grantee, privilege, grantable]
    select coalesce(json_agg(json_build_array(d.nspname, d.objtype, ar.rolname, x.privilege_type, x.is_grantable)
                             order by d.nspname, d.objtype, ar.rolname, x.privilege_type), '[]')
    from (
      select s.nspname, t.objtype,
             coalesce((select g.defaclacl from pg_default_acl g
                       where g.defaclrole = (select oid from pg_roles where rolname = current_user)
                         and g.defaclnamespace = 0 and g.defaclobjtype = t.objtype),
                      acldefault(t.builtin, (select oid from pg_roles where rolname = current_user)))
             || coalesce((select g.defaclacl from pg_default_acl g
                          where g.defaclrole = (select oid from pg_roles where rolname = current_user)
                            and g.defaclnamespace = s.oid and g.defaclobjtype = t.objtype), '{}') as acl
      from (select oid, nspname from ns union all select 0, '') s
      cross join (values ('r'::"char", 'r'::"char"), ('S', 's'), ('f', 'f')) as t(objtype, builtin)
    ) d
    cross join lateral (select distinct e.grantee, e.privilege_type, e.is_grantable from aclexplode(d.acl) e) x
    join acl_roles ar on ar.oid = x.grantee
  ),
  'publication_names', (
    select coalesce(json_agg(json_build_object('name', p.pubname, 'all_tables', p.puballtables)
                             order by p.pubname), '[]')
    from pg_publication p
  ),
  'other_objects', (
    select coalesce(json_agg(o order by o), '[]') from (
      select 'rule ' || quote_ident(rw.rulename) || ' on ' || quote_ident(r.nspname) || '.' || quote_ident(r.relname) as o
        from pg_rewrite rw join rel r on r.oid = rw.ev_class where rw.rulename <> '_RETURN'
      union all
      select 'operator ' || quote_ident(ns.nspname) || '.' || op.oprname
        from pg_operator op join ns on ns.oid = op.oprnamespace
        where not exists (select 1 from ext_member e where e.classid = 'pg_operator'::regclass and e.objid = op.oid)
      union all
      select 'collation ' || quote_ident(ns.nspname) || '.' || quote_ident(co.collname)
        from pg_collation co join ns on ns.oid = co.collnamespace
        where not exists (select 1 from ext_member e where e.classid = 'pg_collation'::regclass and e.objid = co.oid)
      union all
      select 'statistics ' || quote_ident(ns.nspname) || '.' || quote_ident(st.stxname)
        from pg_statistic_ext st join ns on ns.oid = st.stxnamespace
      union all
      select 'text search configuration ' || quote_ident(ns.nspname) || '.' || quote_ident(c.cfgname)
        from pg_ts_config c join ns on ns.oid = c.cfgnamespace
        where not exists (select 1 from ext_member e where e.classid = 'pg_ts_config'::regclass and e.objid = c.oid)
      union all
      select 'event trigger ' || quote_ident(et.evtname) from pg_event_trigger et
        where not exists (select 1 from ext_member e where e.classid = 'pg_event_trigger'::regclass and e.objid = et.oid)
    ) other
  ),
  -- the sequences behind identity columns: [schema, name, table, column number]
  'identity_sequences', (
    select coalesce(json_agg(json_build_array(r.nspname, r.relname, d.refobjid, d.refobjsubid)
                             order by r.nspname, r.relname), '[]')
    from rel r join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = r.oid
                                and d.refclassid = 'pg_class'::regclass and d.deptype = 'i'
    where r.relkind = 'S'
  ),
  'catalog_classes', (
    select json_object_agg(c.oid, c.relname) from pg_class c
    where c.relname in ('pg_class', 'pg_type', 'pg_proc', 'pg_constraint', 'pg_attrdef', 'pg_rewrite',
                        'pg_trigger', 'pg_policy')
      and c.relnamespace = 'pg_catalog'::regnamespace
  ),
  'depends', (
    -- one text of "classid objid objsubid refclassid refobjid refobjsubid deptype" lines: numbers only, and
    -- several times cheaper to build and to read than JSON for tens of thousands of rows
    select coalesce(string_agg(concat_ws(' ', d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid,
                                         d.refobjsubid, d.deptype), E'\n'
                               order by d.classid, d.objid, d.objsubid, d.refclassid, d.refobjid, d.refobjsubid), '')
    from pg_depend d
    where d.deptype in ('n', 'a')
      and d.objid >= 16384 and d.refobjid >= 16384
      and d.refclassid <> 'pg_namespace'::regclass
      and d.objid not in (select nn.oid from not_null nn)  -- a NOT NULL needs nothing but its column
      and d.classid in ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,
                        'pg_constraint'::regclass, 'pg_attrdef'::regclass, 'pg_rewrite'::regclass,
                        'pg_trigger'::regclass, 'pg_policy'::regclass)
  )
) as schema_doc
),
stats as (
  select coalesce(json_object_agg(r.oid, r.reltuples), '{}') as estimates
  from rel r where r.relkind in ('r', 'p', 'm')
)
select doc.schema_doc::text as document,
       encode(sha256(convert_to(doc.schema_doc::text, 'UTF8')), 'hex') as fingerprint,
       stats.estimates::text as estimates
from doc, stats
