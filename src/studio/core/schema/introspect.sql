-- Studio's catalog query: the whole user schema of a database as one JSON document, in one round trip.
-- :excluded is replaced by a text[] literal of schemas to leave out (Supabase-managed ones by default).
-- Every list is ordered so the same schema always gives the same text (its sha256 is the fingerprint).
-- Runs on PostgreSQL 15 and later (the oldest Supabase runs).
--
-- The document has two parts, doc_a and doc_b (JSON objects with different keys; doc_b holds the lists that
-- the server's deparsers spell out). introspect.py ends the query with its SELECT: both parts in one row, or
-- each part as a statement of its own, which two connections can run at the same time (on two cores: at
-- 1,000 tables about 110 ms for the two instead of 190 ms for the whole, on fresh connections).
--
-- Cost notes (measured at 1,000 tables with benchmarks/diff_scale.py):
-- * The large lists are column-wise: one json_agg per field over rows sorted in a subquery (every aggregate
--   of one query level sees the rows in the same order). That is several times cheaper than building a
--   JSON value per row; introspect.py zips the columns back into rows.
-- * Oids are sent as numbers (::int8); privileges as aclitem text, which introspect.py reads.
-- * The deparsers open the table they deparse against (building its relcache entry on a fresh connection):
--   pg_get_expr gets relid 0 where the expression can hold no column reference (a column default), and an
--   index definition is put together from the catalogs when it is a plain btree index on columns.
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
-- objects that belong to an extension are the extension's business, never ours (read through pg_depend's
-- index on the referenced object: a scan of all of pg_depend costs more)
ext_member as (
  select d.classid, d.objid
  from pg_extension x
  join pg_depend d on d.refclassid = 'pg_extension'::regclass and d.refobjid = x.oid and d.deptype = 'e'
),
rel as (
  select c.oid, c.relname, c.relkind, c.relnamespace, ns.nspname, c.reltype, c.relrowsecurity,
         c.relforcerowsecurity, c.relpersistence, c.relispartition, c.reloptions, c.relacl, c.relowner,
         c.reltuples, c.relhassubclass, c.relam
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
-- the sequences behind identity columns (an internal dependency of the sequence on its column)
identity_seq as (
  select r.oid, r.nspname, r.relname, d.refobjid, d.refobjsubid
  from rel r join pg_depend d on d.classid = 'pg_class'::regclass and d.objid = r.oid
                              and d.refclassid = 'pg_class'::regclass and d.deptype = 'i'
  where r.relkind = 'S'
),
not_null as materialized (
  -- PostgreSQL 18 keeps NOT NULL as named constraints; materialized so it is hashed, not probed per column
  select k.oid, k.conrelid, k.conkey[1] as attnum, k.conname from pg_constraint k where k.contype = 'n'
),
acl_roles as (
  -- grants are compared for PUBLIC and Supabase's API roles only (to_regrole: null for a missing role; no
  -- need to plan the pg_roles view)
  select 0::oid as oid, 'PUBLIC'::text as rolname
  union all
  select r.oid, r.rolname
  from (select to_regrole(n)::oid as oid, n as rolname
        from unnest(array['anon', 'authenticated', 'service_role']) n) r
  where r.oid is not null
),
-- btree operator classes that pg_get_indexdef leaves unnamed on a column of their input type: the default
-- one of a (non-domain) type, whose family has no options support function (btree's support function 5):
-- an operator class with options would be printed
plain_opclass as (
  select opc.oid, opc.opcintype
  from pg_opclass opc join pg_type t on t.oid = opc.opcintype
  where opc.opcmethod = (select am.oid from pg_am am where am.amname = 'btree') and opc.opcdefault and t.typtype <> 'd'
    and not exists (select 1 from pg_amproc p where p.amprocfamily = opc.opcfamily and p.amprocnum = 5)
),
-- user indexes that back no constraint (materialized: both lists below read it, and it is computed once)
idx as materialized (
  select i.indexrelid, i.indrelid, ir.nspname, ir.relname, i.indisvalid, i.indisunique, i.indpred, i.indkey,
         i.indclass, i.indcollation, i.indoption,
         ir.relkind = 'i' and ir.relam = (select am.oid from pg_am am where am.amname = 'btree')
           and ir.reloptions is null and i.indexprs is null and i.indnkeyatts = i.indnatts
           and not i.indnullsnotdistinct as plain
  from pg_index i join rel ir on ir.oid = i.indexrelid
  where not exists (select 1 from pg_constraint k where k.conindid = i.indexrelid
                                                    and k.conrelid = i.indrelid
                                                    and k.contype in ('p', 'u', 'x'))
    and not exists (select 1 from pg_inherits ih where ih.inhrelid = i.indexrelid)
),
-- the key columns of a plain btree index spelled as pg_get_indexdef spells them, when every column is a
-- table column with nothing to print but its name and order (no collation, operator class or option)
idx_columns as (
  select i.indexrelid,
         case when bool_and(a.attnum is not null and po.oid is not null and (k.coll = 0 or k.coll = a.attcollation))
              then string_agg(quote_ident(a.attname)
                              || case when k.opt & 1 = 1
                                      then case when k.opt & 2 = 2 then ' DESC' else ' DESC NULLS LAST' end
                                      when k.opt & 2 = 2 then ' NULLS FIRST' else '' end,
                              ', ' order by k.n) end as columns
  from idx i
  cross join lateral unnest(i.indkey::int2[], i.indclass::oid[], i.indcollation::oid[], i.indoption::int2[])
                     with ordinality as k(attnum, opclass, coll, opt, n)
  -- lateral and not flattened (offset 0): probes pg_attribute's index instead of hashing all of it
  left join lateral (select a.attnum, a.attname, a.atttypid, a.attcollation from pg_attribute a
                     where a.attrelid = i.indrelid and a.attnum = k.attnum and k.attnum > 0 offset 0) a on true
  left join plain_opclass po on po.oid = k.opclass and po.opcintype = a.atttypid
  where i.plain
  group by i.indexrelid
),
doc_a as (
select json_build_object(
  'server_version', current_setting('server_version_num')::int,
  -- the roles whose privileges are compared, in the order the server sorts their names
  'acl_roles', (select json_agg(ar.rolname order by ar.rolname) from acl_roles ar),
  -- comments: class, object, sub-object, text (of user objects, and of schemas such as public)
  'comments', (
    select json_build_array(json_agg(d.classoid), json_agg(d.objoid), json_agg(d.objsubid), json_agg(d.description))
    from (
      select d.classoid::int8 as classoid, d.objoid::int8 as objoid, d.objsubid, d.description
      from pg_description d
      where d.objoid >= 16384 or d.classoid = 'pg_namespace'::regclass
      order by 1, 2, 3
    ) d
  ),
  'schemas', (
    select coalesce(json_agg(json_build_object(
      'oid', ns.oid::int8, 'name', ns.nspname,
      'acl', coalesce(ns.nspacl, acldefault('n', ns.nspowner))::text[]
    ) order by ns.nspname), '[]') from ns
  ),
  'extensions', (
    select coalesce(json_agg(json_build_object(
      'oid', x.oid::int8, 'name', x.extname, 'schema', n.nspname, 'version', x.extversion
    ) order by x.extname), '[]')
    from pg_extension x join pg_namespace n on n.oid = x.extnamespace
    where x.extname <> 'plpgsql'
  ),
  'types', (
    select coalesce(json_agg(json_build_object(
      'oid', t.oid::int8, 'schema', t.nspname, 'name', t.typname, 'type', t.typtype, 'array_oid', t.typarray::int8,
      'relid', nullif(t.typrelid, 0)::int8,
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
          from pg_constraint k where k.contypid = t.oid and k.contype = 'c') end
    ) order by t.nspname, t.typname), '[]')
    from typ t
    where (t.typtype in ('e', 'd', 'r', 'm', 'p') or (t.typtype = 'b' and t.typcategory <> 'A'))
       or (t.typtype = 'c' and exists (select 1 from pg_class c where c.oid = t.typrelid and c.relkind = 'c'))
  ),
  -- The large lists are column-wise: [[field 1 of every row], [field 2 of every row], ...]; introspect.py
  -- names the fields.
  -- relations: oid, schema, name, kind, rowtype, rls, force_rls, persistence, partition, inherits,
  --            partition_key, options, view_definition, view_rule, sequence, owned_by, acl
  'relations', (
    select json_build_array(
      json_agg(r.oid), json_agg(r.nspname), json_agg(r.relname), json_agg(r.relkind), json_agg(r.reltype),
      json_agg(r.relrowsecurity), json_agg(r.relforcerowsecurity), json_agg(r.relpersistence),
      json_agg(r.relispartition), json_agg(r.inherits), json_agg(r.partition_key), json_agg(r.reloptions),
      json_agg(r.view_definition), json_agg(r.view_rule), json_agg(r.sequence), json_agg(r.owned_by),
      json_agg(r.acl))
    from (
      select r.oid::int8 as oid, r.nspname, r.relname, r.relkind, r.reltype::int8 as reltype, r.relrowsecurity,
             r.relforcerowsecurity, r.relpersistence, r.relispartition, inh.parents as inherits,
             case when r.relkind = 'p' then pg_get_partkeydef(r.oid) end as partition_key,
             r.reloptions,
             case when r.relkind in ('v', 'm') then pg_get_viewdef(r.oid) end as view_definition,
             case when r.relkind in ('v', 'm') then (
                 select rw.oid::int8 from pg_rewrite rw where rw.ev_class = r.oid and rw.rulename = '_RETURN') end
               as view_rule,
             case when r.relkind = 'S' then (
                 select json_build_array(format_type(s.seqtypid, null), s.seqstart, s.seqincrement, s.seqmin,
                                         s.seqmax, s.seqcache, s.seqcycle)
                 from pg_sequence s where s.seqrelid = r.oid) end as sequence,
             case when r.relkind = 'S' then (
                 select json_build_array(d.refobjid::int8, a.attname)
                 from pg_depend d join pg_attribute a on a.attrelid = d.refobjid and a.attnum = d.refobjsubid
                 where d.classid = 'pg_class'::regclass and d.objid = r.oid
                   and d.refclassid = 'pg_class'::regclass and d.deptype = 'a' and d.refobjsubid > 0
                 limit 1) end as owned_by,
             coalesce(r.relacl, acldefault((case when r.relkind = 'S' then 's' else 'r' end)::"char",
                                           r.relowner))::text[] as acl
      from rel r
      left join (
        select i.inhrelid,
               json_agg(quote_ident(pn.nspname) || '.' || quote_ident(pc.relname) order by i.inhseqno) as parents
        from pg_inherits i join pg_class pc on pc.oid = i.inhparent
        join pg_namespace pn on pn.oid = pc.relnamespace
        group by i.inhrelid
      ) inh on inh.inhrelid = r.oid
      where r.relkind in ('r', 'p', 'v', 'm', 'S', 'f')
        -- a sequence behind an identity column is part of the column
        and not exists (select 1 from identity_seq i where i.oid = r.oid)
      order by r.nspname, r.relname
    ) r
  ),
  -- columns: table, num, name, type, not_null, expression (the default, or a generated column's
  --          expression), generated_kind, identity, collation, acl, not_null_name (left out when
  --          it is the name the server would choose)
  'columns', (
    select json_build_array(
      json_agg(c.attrelid), json_agg(c.attnum), json_agg(c.attname), json_agg(c.type), json_agg(c.attnotnull),
      json_agg(c.expression), json_agg(c.generated), json_agg(c.identity), json_agg(c.collation),
      json_agg(c.acl), json_agg(c.not_null_name))
    from (
      select r.oid::int8 as attrelid, a.attnum, a.attname, format_type(a.atttypid, a.atttypmod) as type,
             a.attnotnull,
             -- a default cannot refer to a column, so it needs no table to be read against
             pg_get_expr(ad.adbin, case when a.attgenerated = '' then 0 else ad.adrelid end) as expression,
             nullif(a.attgenerated, '') as generated,
             nullif(a.attidentity, '') as identity,
             case when a.attcollation <> 0
                       and a.attcollation <> (select t.typcollation from pg_type t where t.oid = a.atttypid)
                  then (select quote_ident(cn.nspname) || '.' || quote_ident(co.collname)
                        from pg_collation co join pg_namespace cn on cn.oid = co.collnamespace
                        where co.oid = a.attcollation) end as collation,
             a.attacl::text[] as acl,
             case when nn.conname <> r.relname || '_' || a.attname || '_not_null' then nn.conname end as not_null_name
      from rel r
      join pg_attribute a on a.attrelid = r.oid and a.attnum > 0 and not a.attisdropped
      left join pg_attrdef ad on ad.adrelid = a.attrelid and ad.adnum = a.attnum
      -- older servers have no contype 'n' rows: the name is null there
      left join not_null nn on nn.conrelid = a.attrelid and nn.attnum = a.attnum
      where r.relkind in ('r', 'p', 'f')
      order by r.oid, a.attnum
    ) c
  ),
  'functions', (
    select coalesce(json_agg(json_build_object(
      'oid', f.oid::int8, 'schema', f.nspname, 'name', f.proname, 'kind', f.prokind,
      'identity_arguments', pg_get_function_identity_arguments(f.oid),
      'arguments', pg_get_function_arguments(f.oid),
      'result', pg_get_function_result(f.oid),
      'definition', case when f.prokind in ('f', 'p') then pg_get_functiondef(f.oid) end,
      'acl', coalesce(f.proacl, acldefault('f', f.proowner))::text[]
    ) order by f.nspname, f.proname, pg_get_function_identity_arguments(f.oid)), '[]')
    from fn f
  ),
  'triggers', (
    select coalesce(json_agg(json_build_object(
      'oid', g.oid::int8, 'table', g.tgrelid::int8, 'name', g.tgname,
      'definition', pg_get_triggerdef(g.oid), 'enabled', g.tgenabled
    ) order by g.tgrelid, g.tgname), '[]')
    from pg_trigger g join rel r on r.oid = g.tgrelid
    where not g.tgisinternal and g.tgparentid = 0
  ),
  'publications', (
    select coalesce(json_agg(json_build_object(
      'publication', p.pubname, 'table', pr.prrelid::int8,
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
                       where g.defaclrole = me.oid and g.defaclnamespace = 0 and g.defaclobjtype = t.objtype),
                      acldefault(t.builtin, me.oid))
             || coalesce((select g.defaclacl from pg_default_acl g
                          where g.defaclrole = me.oid and g.defaclnamespace = s.oid and g.defaclobjtype = t.objtype),
                         '{}') as acl
      from (select oid, nspname from ns union all select 0, '') s
      cross join (values ('r'::"char", 'r'::"char"), ('S', 's'), ('f', 'f')) as t(objtype, builtin)
      cross join (select quote_ident(current_user)::regrole::oid as oid) me
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
  -- the sequences behind identity columns: schema, name, table, column number
  'identity_sequences', (
    select json_build_array(json_agg(s.nspname), json_agg(s.relname), json_agg(s.refobjid), json_agg(s.refobjsubid))
    from (
      select i.nspname, i.relname, i.refobjid::int8 as refobjid, i.refobjsubid
      from identity_seq i
      order by i.nspname, i.relname
    ) s
  ),
  'catalog_classes', (
    select json_object_agg(c.oid, c.relname) from pg_class c
    where c.relname in ('pg_class', 'pg_type', 'pg_proc', 'pg_constraint', 'pg_rewrite', 'pg_trigger', 'pg_policy',
                        'pg_namespace')
      and c.relnamespace = 'pg_catalog'::regnamespace
  ),
  -- depends: classid, objid, objsubid, refclassid, refobjid, refobjsubid, deptype. A column default is
  -- named by its column (pg_class, table, column number); left out as they add nothing: a default's tie to
  -- its own column, a policy's to its own table, and a NOT NULL constraint's to its column.
  'depends', (
    select json_build_array(
      json_agg(d.classid), json_agg(d.objid), json_agg(d.objsubid), json_agg(d.refclassid), json_agg(d.refobjid),
      json_agg(d.refobjsubid), json_agg(d.deptype))
    from (
      select case when ad.oid is null then d.classid else 'pg_class'::regclass end::int8 as classid,
             coalesce(ad.adrelid, d.objid)::int8 as objid, coalesce(ad.adnum::int4, d.objsubid) as objsubid,
             d.refclassid::int8 as refclassid, d.refobjid::int8 as refobjid, d.refobjsubid, d.deptype
      from pg_depend d
      left join pg_attrdef ad on d.classid = 'pg_attrdef'::regclass and ad.oid = d.objid
      where d.deptype in ('n', 'a')
        and d.objid >= 16384 and d.refobjid >= 16384
        and d.refclassid <> 'pg_namespace'::regclass
        and d.objid not in (select nn.oid from not_null nn)
        and d.classid in ('pg_class'::regclass, 'pg_type'::regclass, 'pg_proc'::regclass,
                          'pg_constraint'::regclass, 'pg_attrdef'::regclass, 'pg_rewrite'::regclass,
                          'pg_trigger'::regclass, 'pg_policy'::regclass)
        and not (d.classid = 'pg_policy'::regclass and d.deptype = 'a')
        and (ad.oid is null or not (d.refclassid = 'pg_class'::regclass and d.refobjid = ad.adrelid
                                    and d.refobjsubid = ad.adnum))
      order by 1, 2, 3, 4, 5, 6
    ) d
  )
) as part
),
-- the second part of the document: the lists whose definitions come from the server's deparsers
doc_b as (
select json_build_object(
  -- constraints: oid, table, name, type, definition, index, inherited
  'constraints', (
    select json_build_array(
      json_agg(k.oid), json_agg(k.conrelid), json_agg(k.conname), json_agg(k.contype), json_agg(k.definition),
      json_agg(k.conindid), json_agg(k.inherited))
    from (
      select k.oid::int8 as oid, k.conrelid::int8 as conrelid, k.conname, k.contype,
             pg_get_constraintdef(k.oid) as definition, nullif(k.conindid, 0)::int8 as conindid,
             not k.conislocal as inherited
      from pg_constraint k join rel r on r.oid = k.conrelid
      where k.contype in ('p', 'u', 'f', 'c', 'x')
      order by k.conrelid, k.conname
    ) k
  ),
  -- indexes: oid, table, schema, name, definition, valid
  'indexes', (
    select json_build_array(
      json_agg(i.indexrelid), json_agg(i.indrelid), json_agg(i.nspname), json_agg(i.relname),
      json_agg(i.definition), json_agg(i.indisvalid))
    from (
      select i.indexrelid::int8 as indexrelid, i.indrelid::int8 as indrelid, i.nspname, i.relname,
             case when ic.columns is null then pg_get_indexdef(i.indexrelid)
                  else 'CREATE ' || case when i.indisunique then 'UNIQUE ' else '' end || 'INDEX '
                       || quote_ident(i.relname) || ' ON ' || quote_ident(tn.nspname) || '.'
                       || quote_ident(tc.relname) || ' USING btree (' || ic.columns || ')'
                       || coalesce(' WHERE ' || pg_get_expr(i.indpred, i.indrelid), '') end as definition,
             i.indisvalid
      from idx i
      left join idx_columns ic on ic.indexrelid = i.indexrelid
      join pg_class tc on tc.oid = i.indrelid
      join pg_namespace tn on tn.oid = tc.relnamespace
      order by i.nspname, i.relname
    ) i
  ),
  -- policies: oid, table, name, command, permissive, roles (oids), using, check
  'policies', (
    select json_build_array(
      json_agg(p.oid), json_agg(p.polrelid), json_agg(p.polname), json_agg(p.polcmd), json_agg(p.polpermissive),
      json_agg(p.polroles), json_agg(p.qual), json_agg(p.withcheck))
    from (
      select p.oid::int8 as oid, p.polrelid::int8 as polrelid, p.polname, p.polcmd, p.polpermissive,
             p.polroles::int8[] as polroles, pg_get_expr(p.polqual, p.polrelid) as qual,
             pg_get_expr(p.polwithcheck, p.polrelid) as withcheck
      from pg_policy p join rel r on r.oid = p.polrelid
      order by p.polrelid, p.polname
    ) p
  ),
  -- the roles policies name: [oid, name]
  'policy_roles', (
    select coalesce(json_agg(json_build_array(r.ro::int8, case when r.ro = 0 then 'public'
                                                               else pg_get_userbyid(r.ro)::text end)
                             order by r.ro), '[]')
    from (select distinct unnest(p.polroles) as ro from pg_policy p) r
  )
) as part
),
stats as (
  select json_build_array(json_agg(r.oid::int8), json_agg(r.reltuples)) as estimates
  from rel r where r.relkind in ('r', 'p', 'm')
)
-- (the final SELECT is added by introspect.py: both parts in one row, or each part on its own)
