"""Issue 5 faults: PostgreSQL restarted under load. A private PostgreSQL cluster (initdb into a temporary
directory, its own port; the machine's shared server is untouched) backs a Service while a writer keeps
sending integration writes:

* while the server is down, requests get clean 503 `unavailable` answers (with Retry-After), never a 500;
* the service reconnects by itself once the server is back;
* no acknowledged write is lost: every enterprise answered 200 is in the database afterwards."""
from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import tempfile
import threading
import time

import pytest

from api import create_app
from authz import clients
from authz.config import Settings
from authz.service import Service

pytestmark = [pytest.mark.slow, pytest.mark.postgres]
BIN = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
ZHANG = {"doc_type": "resident_id", "doc_number": "36010219900101123X", "name": "张三"}


def _port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*cmd):
    prefix = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
    done = subprocess.run(prefix + list(cmd), capture_output=True, text=True, timeout=60, cwd="/")
    if done.returncode:  # say why (initdb and pg_ctl explain themselves on stderr)
        raise subprocess.CalledProcessError(done.returncode, done.args, done.stdout,
                                            f"{done.stderr}\n{done.stdout}"[-2000:])
    return done


class PrivatePostgres:
    def __init__(self):
        self.dir = tempfile.mkdtemp(prefix="authz-pg-", dir="/tmp")
        os.chmod(self.dir, 0o755)
        if os.geteuid() == 0:
            shutil.chown(self.dir, "postgres", "postgres")
        self.port = _port()
        self.data = os.path.join(self.dir, "data")
        try:
            _as_postgres(f"{BIN[-1]}/initdb", "-D", self.data, "-A", "trust", "-U", "postgres", "-E", "UTF8",
                         "--no-sync")
        except subprocess.CalledProcessError as e:
            shutil.rmtree(self.dir, ignore_errors=True)
            pytest.fail(f"initdb failed: {e.stderr}")
        self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args):
        _as_postgres(f"{BIN[-1]}/pg_ctl", "-D", self.data, "-w", "-l", os.path.join(self.dir, "log"),
                     "-o", f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off", *args)

    def destroy(self):
        try:
            self.pg_ctl("stop", "-m", "immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def private_pg():
    if not BIN or not shutil.which("runuser"):
        pytest.skip("PostgreSQL server binaries not installed")
    pg = PrivatePostgres()
    pg.pg_ctl("start")
    yield pg
    pg.destroy()


def test_postgres_restart_clean_503s_reconnect_and_no_acknowledged_write_lost(private_pg, tmp_path):
    """Issue 5: 503 during the gap, automatic reconnection, every acknowledged write present afterwards."""
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    settings = Settings(database_url=private_pg.url, model_path=f"{root}/policies/model.conf",
                        rules_path=f"{root}/policies/rules.csv", cookie_secure=False)
    svc = Service(settings).start(follow=False)
    try:
        with svc.db.connection_context():
            key = {"Authorization": "Bearer " + clients.create("feeder", scopes="integration")[1]}
        app = create_app(service=svc)
        acked, statuses, stop = [], [], threading.Event()

        def writer():
            c = app.test_client()
            i = 0
            while not stop.is_set():
                uscc = f"91360100MA35{i:06d}"
                r = c.put(f"/api/v1/integration/enterprises/{uscc}", headers=key,
                          json={"name": f"企业{i}", "kind": "ordinary", "legal_representative": ZHANG})
                statuses.append(r.status_code)
                if r.status_code == 200:
                    acked.append(uscc)
                else:
                    assert r.status_code == 503 and r.get_json()["code"] == "unavailable", r.get_data()
                    assert r.headers.get("Retry-After")
                    time.sleep(0.02)
                i += 1

        t = threading.Thread(target=writer)
        t.start()
        time.sleep(0.5)
        private_pg.pg_ctl("stop", "-m", "fast")
        time.sleep(0.5)  # the writer meets a stopped server
        private_pg.pg_ctl("start")
        time.sleep(0.8)
        stop.set()
        t.join(timeout=30)

        assert 503 in statuses, "the gap was observed"
        assert statuses[-1] == 200 and statuses[-3:] == [200, 200, 200], "reconnected by itself"
        from authz.models import Enterprise
        with svc.db.connection_context():
            stored = {e.uscc for e in Enterprise.select(Enterprise.uscc)}
        lost = [u for u in acked if u not in stored]
        assert not lost, f"acknowledged writes lost: {lost[:5]}"
        print(f"{len(acked)} acknowledged writes, {statuses.count(503)} clean 503s during the restart")
    finally:
        svc.close()
