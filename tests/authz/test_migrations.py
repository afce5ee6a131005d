"""Schema migrations: upgrading keeps data, steps are recorded, and the database backs the binding rules."""
import peewee
import pytest

from authz import migrations
from authz.models import Binding, Person
from tests.binding_support import move


def test_upgrade_is_idempotent_and_keeps_data(svc, directory):
    """Re-running the upgrade applies nothing and loses nothing."""
    directory.create_person("张三", "resident_id", "360102199001011234", uid="p-keep")
    assert migrations.pending(svc.db) == []
    assert migrations.upgrade(svc.db) == []
    assert migrations.current_version(svc.db) == migrations.STEPS[-1][0]
    assert Person.get(Person.uid == "p-keep").name == "张三"


def test_upgrade_from_version_3_keeps_data_and_adds_the_index(svc, directory):
    """An existing database at step 3 upgrades to the latest step with its rows intact."""
    ent = directory.upsert_enterprise("91360100MA35MIGR1X", "迁移测试有限公司")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-migr")
    directory.bind(p, ent, "tax_officer", state="pending", origin="enterprise")
    svc.db.execute_sql("DROP INDEX binding_live_uniq")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 4).execute()
    later = [s[0] for s in migrations.STEPS if s[0] >= 4]
    assert [s[0] for s in migrations.pending(svc.db)] == later
    assert migrations.upgrade(svc.db) == later
    assert Binding.select().count() == 1


def test_R_BIND_4_database_refuses_a_second_live_binding_of_the_same_type(svc, directory):
    """R-BIND-4 / R-BIND-18: two pending (or active) bindings of one type for one person in one enterprise
    cannot coexist even if a flow's own check were raced; ended ones do not count."""
    ent = directory.upsert_enterprise("91360100MA35MIGR1X", "迁移测试有限公司")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-migr")
    b = directory.bind(p, ent, "tax_officer", state="pending", origin="enterprise")
    # the index itself, below bindings.create's own check (which answers binding_exists first)
    row = {f: getattr(b, f) for f in ("person", "enterprise", "domain", "role", "state", "origin", "created_at",
                                      "updated_at")}
    with pytest.raises(peewee.IntegrityError):
        with svc.db.atomic():
            Binding.insert(**row).execute()
    move(directory.svc, b, "withdrawn")
    directory.bind(p, ent, "tax_officer", state="pending", origin="enterprise")  # history does not block


def _binding_indexes(db) -> set[str]:
    return {i.name for i in db.get_indexes("binding")}


def test_upgrade_to_6_drops_only_the_redundant_binding_indexes_and_keeps_data(svc, directory):
    """R-AUTHZ-5 (binding changes at scale): a database made before step 6 loses binding(person_id) and
    binding(enterprise_id), keeps its rows and every composite and unique index; a fresh one never has them."""
    assert not {"binding_person_id", "binding_enterprise_id"} & _binding_indexes(svc.db)
    ent = directory.upsert_enterprise("91360100MA35MIGR1X", "迁移测试有限公司")
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-migr")
    directory.bind(p, ent, "tax_officer", state="active", origin="hall")
    svc.db.execute_sql("CREATE INDEX binding_person_id ON binding (person_id)")  # as step 1 made them before
    svc.db.execute_sql("CREATE INDEX binding_enterprise_id ON binding (enterprise_id)")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 6).execute()
    assert migrations.upgrade(svc.db) == [s[0] for s in migrations.STEPS if s[0] >= 6]  # later steps are idempotent
    left = _binding_indexes(svc.db)
    assert not {"binding_person_id", "binding_enterprise_id"} & left
    assert {"binding_person_id_domain_state", "binding_enterprise_id_state", "binding_live_uniq"} <= left
    assert Binding.select().count() == 1 and svc.enforcer.can("p-migr", "ent:91360100MA35MIGR1X", "biz.query", "use")


def test_upgrade_to_7_adds_the_oidc_tables_and_session_factors_keeping_sessions(svc, directory):
    """Issue 12: a database made before step 7 (no OIDC tables, no login_session.factors) upgrades with
    its sessions intact; their factors read as none."""
    from authz import sessions
    from authz.models import LoginSession, OidcClient
    from authz.sessions import Identity
    from authz.vocab import Entry
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-migr")
    sessions.create(svc, p, Identity(Entry.PERSONAL, "person:p-migr", "self"))
    for table in ("oidc_token", "authorization_code", "oidc_consent", "signing_key", "oidc_client"):
        svc.db.execute_sql(f"DROP TABLE {table}")
    svc.db.execute_sql("ALTER TABLE login_session DROP COLUMN factors")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 7).execute()
    assert migrations.upgrade(svc.db) == _from(7)
    assert LoginSession.select().count() == 1 and LoginSession.get().factors == ""
    assert OidcClient.select().count() == 0


def test_upgrade_to_8_adds_the_request_id_to_audit_rows_keeping_them(svc):
    """Issue 13: a database made before step 8 (audit_log without request_id) upgrades with its audit rows
    intact; they read as written by no known request."""
    from authz import audit
    from authz.models import AuditLog
    audit.record(svc, actor="p-migr", action="person.info.update", target="p-migr")
    svc.db.execute_sql("ALTER TABLE audit_log DROP COLUMN request_id")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 8).execute()
    assert migrations.upgrade(svc.db) == _from(8)
    row = AuditLog.get()
    assert row.action == "person.info.update" and row.request_id == ""


def test_upgrade_to_9_seeds_the_policy_history_with_the_rule_file_in_force(svc):
    """Issue 13: a database made before step 9 gets the history table with the policy in force as its first
    entry, so a first rollback after the upgrade has something to return to."""
    from authz.models import PolicyHistory, PolicyState
    state = PolicyState.get_by_id(1)
    svc.db.execute_sql("DROP TABLE policy_history")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 9).execute()
    assert migrations.upgrade(svc.db) == _from(9)
    (row,) = PolicyHistory.select()
    assert row.digest == state.digest and row.source == state.source and row.note == "in force at upgrade"


def _from(version: int) -> list[int]:
    """The steps an upgrade from just before `version` runs (later steps run too, idempotently)."""
    return [s[0] for s in migrations.STEPS if s[0] >= version]


def _session_indexes(db) -> set[str]:
    return {i.name for i in db.get_indexes("login_session")}


def test_upgrade_to_10_indexes_sessions_by_creation_time_as_a_fresh_database_has_it(svc, directory):
    """Issue 14: the index a starting worker's warm-up walks (newest sessions first) is the one a fresh
    database gets from the model, under the same name, so an upgraded database does not carry two."""
    from authz import sessions
    from authz.models import LoginSession
    from authz.sessions import Identity
    from authz.vocab import Entry
    fresh = _session_indexes(svc.db)
    assert "login_session_created_at" in fresh
    p = directory.create_person("李四", "resident_id", "360102199202021234", uid="p-migr")
    sessions.create(svc, p, Identity(Entry.PERSONAL, "person:p-migr", "self"))
    svc.db.execute_sql("DROP INDEX login_session_created_at")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 10).execute()
    assert migrations.upgrade(svc.db) == _from(10)
    assert _session_indexes(svc.db) == fresh and LoginSession.select().count() == 1


def test_upgrade_to_11_adds_back_channel_logout_columns_keeping_clients(svc):
    """Issue 12 back-channel logout: a database made before step 11 (no oidc_client.backchannel_logout_uri,
    no oidc_token.issuer / logout_queued_at) upgrades with its clients intact; they take no logout tokens
    until an operator registers a URI."""
    from authz.models import OidcClient
    from authz.oidc import clients as oidc_clients
    oidc_clients.create(svc, "decl", redirect_uris=["https://decl.example.cn/cb"])
    svc.db.execute_sql("DROP INDEX oidc_token_logout_pending")
    for table, column in (("oidc_client", "backchannel_logout_uri"), ("oidc_token", "issuer"),
                          ("oidc_token", "logout_queued_at")):
        svc.db.execute_sql(f"ALTER TABLE {table} DROP COLUMN {column}")
    migrations.models.SchemaVersion.delete().where(migrations.models.SchemaVersion.version >= 11).execute()
    assert migrations.upgrade(svc.db) == _from(11)
    assert OidcClient.get(OidcClient.client_id == "decl").backchannel_logout_uri is None
    assert "oidc_token_logout_pending" in {i.name for i in svc.db.get_indexes("oidc_token")}
