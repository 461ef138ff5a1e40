"""The ``onecloud`` command: run the local stack and manage accounts."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import NoReturn

import click

from chalicelib.errors import OnecloudError


@click.group()
def cli() -> None:
    """onecloud: the IBL data architecture as a serverless AWS application."""


@cli.command()
def up() -> None:
    """Run the whole system locally (moto, API, event pump) in the foreground."""
    from onecloud.stack import StackOptions, run

    run(StackOptions.from_env())


@cli.group()
def user() -> None:
    """Manage accounts (talks to the configured AWS account or moto endpoint)."""


@user.command("add")
@click.argument("username")
@click.option("--password", help="Asked for on a terminal when not given.")
@click.option("--email", default="")
@click.option("--lab", "labs", multiple=True, help="Lab the user is a member of (repeatable).")
@click.option("--superuser", is_flag=True, help="Grant every permission.")
@click.option("--public", "is_public_user", is_flag=True, help="Read-only account for released data.")
def user_add(
    username: str, password: str, email: str, labs: tuple[str, ...], superuser: bool, is_public_user: bool
) -> None:
    """Create an account with its lab memberships, in the tables of the local stack
    ($ONECLOUD_AWS_ENDPOINT) or of the deployed stage your AWS credentials reach."""
    from botocore.exceptions import BotoCoreError
    from pynamodb.exceptions import PynamoDBException

    from chalicelib.accounts import create_user

    if password is None:
        if not sys.stdin.isatty():
            _fail("--password is required when not run from a terminal", 2)
        password = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    try:
        create_user(
            username, password, email=email, labs=labs, is_superuser=superuser, is_public_user=is_public_user
        )
    except (PynamoDBException, BotoCoreError) as error:
        cause = getattr(error, "cause", None) or error
        port = os.environ.get("ONECLOUD_AWS_PORT", "4566")
        _fail(
            f"cannot reach the onecloud tables: {cause}. For the local stack (make up), set "
            f"ONECLOUD_AWS_ENDPOINT=http://127.0.0.1:{port} (its ONECLOUD_AWS_PORT); for a deployed "
            "stage, use its AWS credentials (README, Deploying to AWS).",
            2,
        )
    click.echo(f"created user {username}")


URL_HELP = "The onecloud API (default: $ONECLOUD_URL, else the local stack, http://127.0.0.1:$ONECLOUD_PORT)."


def _fail(message: str, code: int) -> NoReturn:
    click.echo(f"error: {message}", err=True)
    sys.exit(code)


@cli.command()
@click.option("--url", help=URL_HELP)
@click.option("--username", envvar="ONECLOUD_USERNAME", prompt=True, help="Default: $ONECLOUD_USERNAME.")
def login(url: str | None, username: str) -> None:
    """Log in to the API and keep the token for upload (in $XDG_CONFIG_HOME/onecloud, by default
    ~/.config/onecloud, readable by you alone)."""
    from onecloud.client import Api, ApiError, api_url, save_token

    api = Api(api_url(url))
    password = click.prompt("Password", hide_input=True)
    try:
        path = save_token(api.url, api.log_in(username, password))
    except ApiError as error:
        _fail(str(error), 2)
    click.echo(f"logged in to {api.url} as {username} (token saved in {path})")


@cli.command("upload")
@click.argument("session_dir", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--lab", required=True, help="The lab the session belongs to.")
@click.option("--subject", help="Subject nickname (default: read from SESSION_DIR).")
@click.option("--date", help="Session date YYYY-MM-DD (default: read from SESSION_DIR).")
@click.option("--number", help="Session number (default: read from SESSION_DIR).")
@click.option("--url", help=URL_HELP)
@click.option("--jobs", default=4, show_default=True, type=click.IntRange(1, 64), help="Parallel transfers.")
@click.option(
    "--timeout",
    default=600.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="Seconds to wait for the files to be registered once sent.",
)
def upload_command(
    session_dir: Path,
    lab: str,
    subject: str | None,
    date: str | None,
    number: str | None,
    url: str | None,
    jobs: int,
    timeout: float,
) -> None:
    """Upload the ALF datasets of a session folder (.../subject/YYYY-MM-DD/NNN) and wait for their
    registration. Exits 0 when every file is registered, 1 when any is not, 2 when it cannot start."""
    from onecloud import upload
    from onecloud.client import ApiError, api_url, authenticated

    try:
        session = upload.session_path(session_dir, lab, subject, date, number)
        api = authenticated(api_url(url), connections=jobs)
        outcomes = upload.upload_session(api, session_dir, session, jobs=jobs, timeout=timeout)
    except upload.ProtectedDatasets as error:
        _fail(str(error), 1)
    except (ApiError, upload.UploadError) as error:
        _fail(str(error), 2)
    click.echo(upload.summary(outcomes))
    sys.exit(0 if all(o.status == "registered" for o in outcomes) else 1)


@cli.command("worker")
@click.option("--lab", required=True, help="Run the Waiting tasks of this lab.")
@click.option("--url", help=URL_HELP)
@click.option("--name", "worker_name", default=None, help="This worker's name (default: host name).")
@click.option("--once", is_flag=True, help="Stop when no task is waiting, instead of polling.")
@click.option("--poll", default=30.0, show_default=True, help="Seconds between polls.")
@click.option("--lease", default=3600, show_default=True, help="Seconds before another worker may take over.")
def worker_command(
    lab: str, url: str | None, worker_name: str | None, once: bool, poll: float, lease: int
) -> None:
    """Run the lab's Waiting tasks here, with the same entrypoints as AWS Batch."""
    import socket

    from onecloud.client import ApiError, api_url, authenticated
    from onecloud.worker import work

    name = worker_name or socket.gethostname()
    try:
        outcomes = work(
            authenticated(api_url(url)),
            lab,
            name,
            once=once,
            poll_seconds=poll,
            lease_seconds=lease,
            report=lambda o: click.echo(f"{o.name} ({o.task}): {o.status} in {o.seconds:.1f} s"),
        )
    except ApiError as error:
        _fail(str(error), 2)
    if not outcomes:
        click.echo(f"no task of lab {lab} is waiting")
    sys.exit(0 if all(o.status == "Complete" for o in outcomes) else 1)


def _channel_list(text: str | None) -> list[int] | None:
    """``0-9,20,30-31`` -> [0, ..., 9, 20, 30, 31]."""
    if not text:
        return None
    channels: list[int] = []
    try:
        for part in text.split(","):
            first, _, last = part.strip().partition("-")
            channels.extend(range(int(first), int(last or first) + 1))
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a list of channels such as 0-9,20") from None
    return channels


@cli.command("stream")
@click.argument("eid")
@click.option("--probe", required=True, help="The probe's folder under raw_ephys_data (probe00...).")
@click.option("--start", required=True, type=click.FloatRange(min=0), help="Seconds from the start.")
@click.option("--duration", default=1.0, show_default=True, type=click.FloatRange(min=0, min_open=True))
@click.option("--channels", help="Channels to keep, e.g. 0-9,20 (default: all, sync channel included).")
@click.option("--band", type=click.Choice(["ap", "lf"]), default="ap", show_default=True)
@click.option("--raw", is_flag=True, help="Save the int16 counts instead of volts (float32).")
@click.option("--public", is_flag=True, help="Read released data without logging in.")
@click.option("--release", help="The release to read from (default: the newest holding the session).")
@click.option("--url", help=URL_HELP)
@click.option(
    "-o", "--output", type=click.Path(dir_okay=False, path_type=Path), required=True, help=".npy file."
)
def stream_command(
    eid: str,
    probe: str,
    start: float,
    duration: float,
    channels: str | None,
    band: str,
    raw: bool,
    public: bool,
    release: str | None,
    url: str | None,
    output: Path,
) -> None:
    """Save a window of a probe's compressed recording, read from the store with HTTP Range requests
    (only the chunks covering it), as a (samples, channels) .npy array. Uses your login (as upload
    does); without one, or with --public, reads released data."""
    import time

    import numpy as np

    from onecloud import stream

    started = time.monotonic()
    try:
        with stream.open_probe(eid, probe, url=url, public=public, release=release, band=band) as recording:
            window = recording.read_seconds(start, duration, _channel_list(channels), volts=not raw)
    except stream.StreamError as error:
        _fail(str(error), 2)
    np.save(output, window)
    moved = recording.transfer
    click.echo(
        f"{output}: {window.shape[0]} samples x {window.shape[1]} channels ({'int16' if raw else 'volts'}) "
        f"from {recording.name}, {moved.bytes / 1e6:.2f} MB in {moved.requests} requests, "
        f"{time.monotonic() - started:.2f} s"
    )


@cli.command("export-nwb")
@click.argument("eid")
@click.option("--url", help=URL_HELP)
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="Download it here too.")
@click.option("--timeout", default=1800.0, show_default=True, type=click.FloatRange(min=0), help="Seconds.")
def export_nwb_command(eid: str, url: str | None, output: Path | None, timeout: float) -> None:
    """Export a session to one NWB file (an ExportNWB job), wait for it, and name the registered
    dataset; with --output, download the file. Uses your login (as upload does)."""
    from onecloud import nwb_export
    from onecloud.client import ApiError, api_url, authenticated

    try:
        api = authenticated(api_url(url))
        dataset = nwb_export.export(api, eid, timeout=timeout, report=click.echo)
        click.echo(f"registered {dataset['collection']}/{dataset['name']} ({dataset['file_size']} bytes)")
        if output is not None:
            size = nwb_export.download(api, eid, dataset, output)
            click.echo(f"downloaded {output} ({size} bytes)")
    except ApiError as error:
        _fail(str(error), 1 if "ended" in str(error) else 2)


@cli.command("import-alyx")
@click.argument("source")
@click.option("--url", help=URL_HELP)
@click.option(
    "--alyx-username", envvar="ALYX_USERNAME", help="A REST SOURCE's account (default: $ALYX_USERNAME)."
)
@click.option(
    "--alyx-password", envvar="ALYX_PASSWORD", help="Its password ($ALYX_PASSWORD; asked for on a terminal)."
)
@click.option("--alyx-token", envvar="ALYX_TOKEN", help="Or a token of that account ($ALYX_TOKEN).")
def import_alyx_command(
    source: str, url: str | None, alyx_username: str | None, alyx_password: str | None, alyx_token: str | None
) -> None:
    """Bring a lab's records from Alyx: SOURCE is a Django dumpdata JSON file (plain or gzipped) or the
    URL of a running Alyx, read over its REST API with an account. Alyx's uuids are kept; running it
    again changes nothing. Needs a superuser's log-in to onecloud (as upload: --url and its log-in)."""
    from onecloud.client import Api, ApiError, api_url, authenticated
    from onecloud.import_alyx import import_dump, import_rest, summary

    missing: list[str] = []
    try:
        if source.startswith(("http://", "https://")):
            alyx = Api(source.rstrip("/"), alyx_token)
            if not alyx_token:
                if not alyx_username:
                    _fail("a REST source needs --alyx-username (and a password) or --alyx-token", 2)
                if alyx_password is None:
                    if not sys.stdin.isatty():
                        _fail("--alyx-password is required when not run from a terminal", 2)
                    alyx_password = click.prompt(f"Password of {alyx_username} on {source}", hide_input=True)
                alyx.log_in(alyx_username, alyx_password)
            reports, missing = import_rest(authenticated(api_url(url)), alyx)
        else:
            path = Path(source)
            if not path.is_file():
                _fail(f"{source}: no such file (SOURCE is a dumpdata file or an http(s) URL)", 2)
            reports = import_dump(authenticated(api_url(url)), path)
    except ApiError as error:
        _fail(str(error), 2)
    click.echo(summary(reports, missing))


@cli.command("demo")
@click.option(
    "--mice", default=150, show_default=True, type=click.IntRange(1, 1000), help="Mice in the colony."
)
@click.option("--seed", default=0, show_default=True, type=click.IntRange(0), help="Same seed, same colony.")
@click.option(
    "--speed",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.25, 4),
    help="How fast the mice learn: 2 trains them in about half the sessions (a quicker demo).",
)
@click.option("--url", help=URL_HELP)
@click.option("--jobs", default=8, show_default=True, type=click.IntRange(1, 64), help="Sessions in flight.")
@click.option("--wait/--no-wait", default=True, show_default=True, help="Wait for every training status.")
@click.option("--timeout", default=7200.0, show_default=True, type=click.FloatRange(min=0), help="Seconds.")
def demo_command(
    mice: int, seed: int, speed: float, url: str | None, jobs: int, wait: bool, timeout: float
) -> None:
    """Fill a running stack with a seeded demo colony: four labs, MICE mice with their water restrictions,
    weighings and water, and weeks of training sessions (trials, wheel, ambient sensor data) uploaded as a
    rig does, so the pipeline computes their training status. Needs a superuser's log-in (it creates labs)."""
    import time

    from onecloud.client import ApiError, api_url, authenticated
    from onecloud.demo.colony import make_colony
    from onecloud.demo.send import send, wait_for_training

    started = time.monotonic()
    click.echo(f"simulating {mice} mice learning the task (seed {seed}, speed {speed:g})...")
    colony = make_colony(mice, seed, speed=speed)
    click.echo(
        f"simulated {sum(len(m.sessions) for m in colony)} sessions in {time.monotonic() - started:.0f} s"
    )
    try:
        api = authenticated(api_url(url), connections=jobs)
        sent = send(api, colony, jobs=jobs, report=click.echo)
        if wait:
            counts = wait_for_training(api, sent["sessions"], timeout, report=click.echo)
            if counts["pending"] or counts["Complete"] + counts["Errored"] < sent["sessions"]:
                _fail(f"training status of some sessions still pending after {timeout:g} s", 1)
    except ApiError as error:
        _fail(str(error), 2)
    click.echo(f"demo ready in {time.monotonic() - started:.0f} s: open {api.url}/ui/training")


@cli.group()
def analyses() -> None:
    """Analyses over everything stored."""


@analyses.command("training-time")
@click.option("--project", help="Only subjects of this project (the paper: ibl_neuropixel_brainwide_01).")
@click.option("--lab", help="Only subjects of this lab.")
@click.option(
    "--cutoff", help="Only mice trained on or before this date, YYYY-MM-DD (the paper: 2020-03-23)."
)
@click.option(
    "--seed", default=0, show_default=True, type=click.IntRange(0), help="Forests, folds, shuffles."
)
@click.option("--mode", type=click.Choice(["paper", "methods"]), default="paper", show_default=True)
@click.option("--shuffles", default=100, show_default=True, type=click.IntRange(0), help="Label shuffles.")
@click.option("--url", help=URL_HELP)
@click.option("--wait/--no-wait", default=True, show_default=True, help="Follow the run until it ends.")
def training_time_command(
    project: str | None,
    lab: str | None,
    cutoff: str | None,
    seed: int,
    mode: str,
    shuffles: int,
    url: str | None,
    wait: bool,
) -> None:
    """Predict time to trained from the first five training days (the paper's Fig. 2), as a Batch job over
    everything stored; prints the scores and the page that draws them."""
    from onecloud.client import ApiError, api_url, authenticated
    from onecloud.training_time import follow, summary

    options = {
        "project": project,
        "lab": lab,
        "cutoff": cutoff,
        "seed": seed,
        "mode": mode,
        "shuffles": shuffles,
    }
    try:
        api = authenticated(api_url(url))
        run = api.post("/analyses/training-time", options)
        click.echo(f"run {run['id']} submitted")
        if not wait:
            return
        run = follow(api, run["id"])
    except ApiError as error:
        _fail(str(error), 2)
    click.echo(summary(api.url, run))
    sys.exit(0 if run["status"] == "Complete" else 1)


def main() -> None:
    try:
        cli(standalone_mode=False)
    except click.exceptions.Abort:
        sys.exit(130)
    except click.ClickException as error:
        error.show()
        sys.exit(error.exit_code)
    except OnecloudError as error:
        click.echo(f"error: {error.detail}", err=True)
        sys.exit(2)


if __name__ == "__main__":
    main()
