"""`territoria users`: accounts, roles per collectivité, web passwords, API tokens, web
sessions and login locks."""

from __future__ import annotations

import sys
from datetime import timedelta

import click

from territoria.accounts import ROLES, Accounts, User
from territoria.audit import parse_duration
from territoria.cli import common, emit
from territoria.errors import InvalidRequest
from territoria.runtime import Runtime


def user_json(user: User) -> dict[str, object]:
    return {
        "name": user.name,
        "tenant": user.tenant,
        "role": user.role,
        "created_at": user.created_at,
        "has_password": user.has_password,
        "tokens": [
            {
                "token_id": t.token_id,
                "created_at": t.created_at,
                "expires_at": t.expires_at,
                "last_used_at": t.last_used_at,
                "revoked": t.revoked_at is not None,
            }
            for t in user.tokens
        ],
    }


def interactive() -> bool:
    """Whether a person can type a password (stdin is a terminal)."""
    return sys.stdin.isatty()


def new_password(from_stdin: bool, *, name: str, adding: bool) -> str:
    """The password of `name`: one line of stdin, or typed twice at a terminal. Never waits on
    a stdin that is not a terminal: a script without --password-stdin gets a French error
    that says how to give it."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    if not interactive():
        other = (
            ", ou créez un compte sans mot de passe (jetons d'API seulement) avec --no-password"
            if adding
            else ""
        )
        command = "add" if adding else "password"
        raise InvalidRequest(
            f"Mot de passe requis pour {name} : l'entrée standard n'est pas un terminal, il ne "
            "peut pas être demandé. Donnez-le sur l'entrée standard avec --password-stdin "
            f"(par ex. printf '%s\\n' \"$MOT_DE_PASSE\" | territoria users {command} {name} "
            f"--password-stdin){other}."
        )
    try:
        while True:
            first = _ask(f"Mot de passe pour {name}")
            if first == _ask("Confirmez le mot de passe"):
                return first
            click.echo("Les deux saisies diffèrent : recommencez.", err=True)
    except click.Abort:
        raise InvalidRequest("Saisie du mot de passe interrompue : rien n'a été modifié.") from None


def _ask(prompt: str) -> str:
    return str(click.prompt(prompt, hide_input=True, err=True, prompt_suffix=" : "))


# --- users -------------------------------------------------------------------------------------


@click.group()
def users() -> None:
    """Comptes : utilisateurs, rôles par collectivité, jetons d'API."""


@users.command("add")
@click.argument("name")
@click.option("--tenant", default="default", show_default=True, help="Collectivité.")
@click.option("--role", type=click.Choice(ROLES), default="agent", show_default=True)
@click.option(
    "--password-stdin",
    is_flag=True,
    help="Lire le mot de passe sur l'entrée standard (sinon : demandé au terminal).",
)
@click.option(
    "--no-password",
    is_flag=True,
    help="Compte sans mot de passe, qui ne se connecte pas au site (jetons d'API seulement).",
)
@common
def users_add(
    name: str,
    tenant: str,
    role: str,
    password_stdin: bool,
    no_password: bool,
    *,
    runtime: Runtime,
    as_json: bool,
) -> None:
    """Créer un utilisateur, avec le mot de passe de sa connexion au site : demandé au
    terminal (deux fois), ou lu sur l'entrée standard avec --password-stdin."""
    if no_password and password_stdin:
        raise InvalidRequest("Choisissez --password-stdin ou --no-password, pas les deux.")
    password = None if no_password else new_password(password_stdin, name=name, adding=True)
    with Accounts(runtime.settings) as accounts:
        user = accounts.add_user(name, tenant=tenant, role=role, password=password)
    if as_json:
        emit(user_json(user))
    elif password is None:
        click.echo(
            f"Utilisateur {user.name} créé ({user.role}, {user.tenant}), sans mot de passe : "
            f"il ne peut pas se connecter au site. Créez-lui un jeton d'API avec "
            f"`territoria users token {user.name}`, ou un mot de passe avec "
            f"`territoria users password {user.name}`."
        )
    else:
        click.echo(
            f"Utilisateur {user.name} créé ({user.role}, {user.tenant}) ; il peut se connecter "
            "au site avec ce mot de passe."
        )


@users.command("list")
@click.option("--tenant", default=None, help="Seulement cette collectivité.")
@common
def users_list(tenant: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Lister les utilisateurs et leurs jetons."""
    with Accounts(runtime.settings) as accounts:
        found = accounts.list_users(tenant=tenant)
    if as_json:
        emit({"users": [user_json(u) for u in found]})
        return
    for u in found:
        active = sum(1 for t in u.tokens if t.revoked_at is None)
        password = ", mot de passe" if u.has_password else ""
        click.echo(f"{u.name}\t{u.tenant}\t{u.role}\t{active} jeton(s) actif(s){password}")


@users.command("token")
@click.argument("name")
@click.option("--expires", default=None, help="Durée de validité (ex. 90d, 12h) ; défaut : aucune.")
@common
def users_token(name: str, expires: str | None, *, runtime: Runtime, as_json: bool) -> None:
    """Créer un jeton d'API (affiché une seule fois)."""
    expires_in: timedelta | None = parse_duration(expires) if expires else None
    with Accounts(runtime.settings) as accounts:
        issued = accounts.create_token(name, expires_in=expires_in)
    if as_json:
        emit(
            {
                "token_id": issued.token_id,
                "token": issued.token,
                "user": issued.user,
                "expires_at": issued.expires_at,
            }
        )
        return
    click.echo(issued.token)
    click.echo(
        f"Jeton {issued.token_id} créé pour {issued.user} : conservez-le, il ne sera plus affiché.",
        err=True,
    )


@users.command("revoke")
@click.argument("token_id")
@common
def users_revoke(token_id: str, *, runtime: Runtime, as_json: bool) -> None:
    """Révoquer un jeton d'API."""
    with Accounts(runtime.settings) as accounts:
        accounts.revoke_token(token_id)
    if as_json:
        emit({"revoked": token_id})
    else:
        click.echo(f"Jeton {token_id} révoqué.")


# --- users: passwords, web sessions, login locks -----------------------------------------------


@users.command("password")
@click.argument("name")
@click.option("--password-stdin", is_flag=True, help="Lire le mot de passe sur l'entrée standard.")
@common
def users_password(name: str, password_stdin: bool, *, runtime: Runtime, as_json: bool) -> None:
    """Changer le mot de passe d'un utilisateur (ses sessions web sont fermées)."""
    password = new_password(password_stdin, name=name, adding=False)
    with Accounts(runtime.settings) as accounts:
        revoked = accounts.set_password(name, password)
    if as_json:
        emit({"user": name, "password_changed": True, "sessions_revoked": revoked})
    else:
        click.echo(f"Mot de passe de {name} modifié ; {revoked} session(s) web fermée(s).")


@users.command("sessions")
@click.argument("name")
@common
def users_sessions(name: str, *, runtime: Runtime, as_json: bool) -> None:
    """Lister les sessions web d'un utilisateur et l'état de ses échecs de connexion."""
    with Accounts(runtime.settings) as accounts:
        found = accounts.list_sessions(name)
        login = accounts.login_state(name)
    if as_json:
        emit(
            {
                "user": name,
                "sessions": [
                    {
                        "session": s.ref,
                        "tenant": s.tenant,
                        "created_at": s.created_at,
                        "last_seen_at": s.last_seen_at,
                        "expires_at": s.expires_at,
                        "revoked_at": s.revoked_at,
                        "active": s.active,
                    }
                    for s in found
                ],
                "login": {"failures": login.failures, "locked_until": login.locked_until},
            }
        )
        return
    active = sum(1 for s in found if s.active)
    click.echo(f"Sessions web de {name} : {active} active(s) sur {len(found)}.")
    for s in found:
        status = "active" if s.active else "révoquée" if s.revoked_at else "expirée"
        click.echo(
            f"  {s.ref}  ouverte {s.created_at}  vue {s.last_seen_at}"
            f"  expire {s.expires_at}  {status}"
        )
    if login.locked_until:
        click.echo(
            f"Connexion bloquée jusqu'à {login.locked_until} ({login.failures} échec(s)) :"
            f" `territoria users unlock {name}` la débloque."
        )
    elif login.failures:
        click.echo(f"{login.failures} échec(s) de connexion consécutif(s).")


@users.command("revoke-sessions")
@click.argument("name")
@common
def users_revoke_sessions(name: str, *, runtime: Runtime, as_json: bool) -> None:
    """Fermer toutes les sessions web d'un utilisateur (il devra se reconnecter)."""
    with Accounts(runtime.settings) as accounts:
        revoked = accounts.revoke_sessions(name)
    if as_json:
        emit({"user": name, "sessions_revoked": revoked})
    else:
        click.echo(f"{revoked} session(s) web de {name} fermée(s).")


@users.command("unlock")
@click.argument("name")
@common
def users_unlock(name: str, *, runtime: Runtime, as_json: bool) -> None:
    """Débloquer la connexion d'un utilisateur après des échecs répétés."""
    with Accounts(runtime.settings) as accounts:
        unlocked = accounts.unlock(name)
    if as_json:
        emit({"user": name, "unlocked": unlocked})
    elif unlocked:
        click.echo(f"Connexion de {name} débloquée.")
    else:
        click.echo(f"Aucun échec de connexion à effacer pour {name}.")


@users.command("delete")
@click.argument("name")
@common
def users_delete(name: str, *, runtime: Runtime, as_json: bool) -> None:
    """Supprimer un utilisateur, ses jetons et ses sessions (voir aussi `purge --user`)."""
    with Accounts(runtime.settings) as accounts:
        tokens = accounts.delete_user(name)
    if as_json:
        emit({"deleted": name, "tokens": tokens})
    else:
        click.echo(f"Utilisateur {name} supprimé ({tokens} jeton(s)).")


COMMANDS = (users,)
