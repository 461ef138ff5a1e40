"""The ``onecloud`` command: run the local stack and manage accounts."""

from __future__ import annotations

import sys

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
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True)
@click.option("--email", default="")
@click.option("--lab", "labs", multiple=True, help="Lab the user is a member of (repeatable).")
@click.option("--superuser", is_flag=True, help="Grant every permission.")
@click.option("--public", "is_public_user", is_flag=True, help="Read-only account for released data.")
def user_add(
    username: str, password: str, email: str, labs: tuple[str, ...], superuser: bool, is_public_user: bool
) -> None:
    """Create an account with its lab memberships."""
    from chalicelib.accounts import create_user

    create_user(
        username, password, email=email, labs=labs, is_superuser=superuser, is_public_user=is_public_user
    )
    click.echo(f"created user {username}")


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
