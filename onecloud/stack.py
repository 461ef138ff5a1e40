"""The local stack: the whole system on one machine with no AWS account.

A moto server (its own process) stands in for DynamoDB, S3 and SQS; the same Chalice app that Lambda runs
serves the API on 127.0.0.1; the event pump delivers S3 notifications to the same handlers. Only the
endpoint URL differs from a deployment.
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NoReturn

import requests

from chalicelib import aws
from chalicelib.config import LOCAL_CREDENTIALS, Settings
from chalicelib.errors import BadRequest
from chalicelib.observability import logger

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_ADMIN = ("admin", "onecloud-local-admin")
SNAPSHOT_SECONDS = 60
MOTO_START_SECONDS = 60


@dataclass(frozen=True)
class StackOptions:
    aws_port: int = 4566
    api_port: int = 8000
    host: str = "127.0.0.1"
    admin_user: str = DEFAULT_ADMIN[0]
    admin_password: str = DEFAULT_ADMIN[1]
    state_dir: Path | None = None

    @classmethod
    def from_env(cls) -> StackOptions:
        env = os.environ
        state = env.get("ONECLOUD_STATE_DIR")
        return cls(
            aws_port=int(env.get("ONECLOUD_AWS_PORT", "4566")),
            api_port=int(env.get("ONECLOUD_PORT", "8000")),
            admin_user=env.get("ONECLOUD_ADMIN_USER", DEFAULT_ADMIN[0]),
            admin_password=env.get("ONECLOUD_ADMIN_PASSWORD", DEFAULT_ADMIN[1]),
            state_dir=Path(state).expanduser() if state else None,
        )

    @property
    def aws_endpoint(self) -> str:
        return f"http://{self.host}:{self.aws_port}"

    @property
    def api_url(self) -> str:
        return f"http://{self.host}:{self.api_port}"


def _check_port_free(host: str, port: int, what: str) -> None:
    with socket.socket() as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise BadRequest(
                f"{what} port {port} on {host} is in use ({error.strerror}); "
                f"choose another with the environment variable named in the README"
            ) from error


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self._moto = None
        self._api = None
        self._api_thread: threading.Thread | None = None
        self._pump = None
        self._runner = None
        self._scheduler = None
        self._stop = threading.Event()
        self._snapshots: threading.Thread | None = None

    def start(self) -> None:
        from onecloud.moto_server import SWITCH_SECONDS

        sys.setswitchinterval(SWITCH_SECONDS)  # the API, pump and runner wait on moto's answers, as moto
        logging.getLogger("werkzeug").setLevel(logging.WARNING)  # per-request access logs
        options = self.options
        _check_port_free(options.host, options.aws_port, "ONECLOUD_AWS_PORT (moto)")
        _check_port_free(options.host, options.api_port, "ONECLOUD_PORT (API)")
        self._start_moto()
        self._configure_environment()
        self._prepare_data()
        self._start_api()
        self._start_pump()
        if options.state_dir:
            self._snapshots = threading.Thread(target=self._snapshot_loop, name="snapshots", daemon=True)
            self._snapshots.start()

    def _start_moto(self) -> None:
        """moto's server in its own process (onecloud/moto_server.py): it answers on the other core."""
        options = self.options
        command = [sys.executable, "-m", "onecloud.moto_server", "--host", options.host]
        command += ["--port", str(options.aws_port), "--parent", str(os.getpid())]
        self._moto = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + MOTO_START_SECONDS
        while time.monotonic() < deadline:
            if self._moto.poll() is not None:
                raise BadRequest(f"moto's server stopped at start (exit {self._moto.returncode}); see above")
            try:
                requests.get(f"{options.aws_endpoint}/moto-api/", timeout=2)
                return
            except requests.ConnectionError:
                time.sleep(0.2)
        raise BadRequest(f"moto's server did not answer on {options.aws_endpoint} in {MOTO_START_SECONDS} s")

    def _configure_environment(self) -> None:
        """Point this process (and the subprocesses it starts) at the moto server."""
        key, secret = LOCAL_CREDENTIALS
        os.environ.update(
            ONECLOUD_AWS_ENDPOINT=self.options.aws_endpoint,
            AWS_ACCESS_KEY_ID=key,
            AWS_SECRET_ACCESS_KEY=secret,
            AWS_DEFAULT_REGION=os.environ.get("AWS_DEFAULT_REGION", "us-east-1"),
        )
        if not os.environ.get("ONECLOUD_SMTP"):  # local mail never leaves the machine
            state = self.options.state_dir or ROOT / ".state"
            os.environ.setdefault("ONECLOUD_MAIL_DIR", str(Path(state) / "mail"))
        aws.configure(Settings.from_env())

    def _prepare_data(self) -> None:
        from chalicelib import releases
        from chalicelib.accounts import ensure_superuser
        from chalicelib.colony.vocabulary import seed_colony_vocabulary
        from chalicelib.vocabulary import ensure_store_repository, seed_vocabulary
        from onecloud import provision, snapshot

        requests.post(
            f"{self.options.aws_endpoint}/moto-api/config", json={"batch": {"use_docker": False}}, timeout=10
        )  # the job runner below runs Batch jobs, not moto's docker backend
        provision.create_tables()
        provision.create_bucket()
        provision.create_batch()
        queue_arn = provision.create_queues()
        if self.options.state_dir:
            snapshot.restore(self.options.state_dir)
            releases.reattach_versions()  # restored objects have new version ids
        provision.notify_uploads(queue_arn)
        if self.options.state_dir:
            snapshot.announce_unregistered()  # the events in flight at the last stop
        formats, types = seed_vocabulary()
        seed_colony_vocabulary()
        ensure_store_repository()
        created = ensure_superuser(self.options.admin_user, self.options.admin_password)
        logger.info(
            "local data ready", new_formats=formats, new_dataset_types=types, superuser_created=created
        )

    def _start_api(self) -> None:
        from chalice.cli import factory

        from onecloud.gateway import local_server

        config = factory.CLIFactory(project_dir=str(ROOT)).create_config_obj(chalice_stage_name="dev")
        self._api = local_server(config.chalice_app, config, self.options.host, self.options.api_port)
        self._api_thread = threading.Thread(target=self._api.server.serve_forever, name="api", daemon=True)
        self._api_thread.start()
        self._app = config.chalice_app

    def _start_pump(self) -> None:
        from onecloud.pump import EventPump
        from onecloud.runner import JobRunner
        from onecloud.scheduler import Scheduler

        self._pump = EventPump(self._app)
        self._pump.start()
        self._runner = JobRunner(self._app)
        self._runner.start()
        self._scheduler = Scheduler(self._app)
        self._scheduler.start()

    def _snapshot_loop(self) -> None:
        while not self._stop.wait(SNAPSHOT_SECONDS):
            self.save_state()

    def save_state(self) -> None:
        from onecloud import snapshot

        if self.options.state_dir:
            try:
                snapshot.save(self.options.state_dir)
            except Exception:
                logger.exception("could not save the local state", state_dir=str(self.options.state_dir))

    def stop(self) -> None:
        self._stop.set()
        if self._runner:
            self._runner.stop()
        if self._scheduler:
            self._scheduler.stop()
        if self._pump:
            self._pump.stop()
        if self._api:
            self._api.shutdown()
            self._api.server.server_close()
        if self._snapshots:
            self._snapshots.join(timeout=5)
        self.save_state()
        if self._moto:
            self._moto.terminate()
            try:
                self._moto.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self._moto.kill()

    def banner(self) -> str:
        options = self.options
        lines = [
            "onecloud local stack is up",
            f"  API          {options.api_url}  (health: {options.api_url}/health)",
            f"  AWS (moto)   {options.aws_endpoint}  (DynamoDB, S3, SQS, Batch, Logs)",
            "  jobs         run here as subprocesses by the local job runner",
            f"  data bucket  s3://{aws.settings().data_bucket}",
            f"  state        {options.state_dir or 'in memory only (set ONECLOUD_STATE_DIR to keep it)'}",
            f"  superuser    {options.admin_user}",
            f"  mail         {os.environ.get('ONECLOUD_MAIL_DIR') or os.environ.get('ONECLOUD_SMTP')}",
        ]
        if (options.admin_user, options.admin_password) == DEFAULT_ADMIN:
            lines.append(
                f"  WARNING: default superuser password {options.admin_password!r}: for local use only; "
                "set ONECLOUD_ADMIN_USER / ONECLOUD_ADMIN_PASSWORD"
            )
        lines.append("Press Ctrl-C to stop.")
        return "\n".join(lines)


def run(options: StackOptions) -> NoReturn:
    """Run the stack in the foreground until Ctrl-C or SIGTERM, then exit at once.

    Everything is saved and stopped by then; Python's own teardown would spend minutes at full CPU
    garbage-collecting moto's in-memory AWS and botocore's service models before the process ends.
    """
    stack = LocalStack(options)
    stopped = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopped.set())
    signal.signal(signal.SIGINT, lambda *_: stopped.set())
    try:
        stack.start()
        print(stack.banner(), flush=True)
        stopped.wait()
        print("stopping...", flush=True)
    finally:
        stack.stop()
    print("stopped", flush=True)
    logging.shutdown()
    sys.stderr.flush()
    os._exit(0)
