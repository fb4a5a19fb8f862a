"""``filevault ls | rm | mv | versions | restore | share ...`` (``trash``: trash_cmds.py)"""

from __future__ import annotations

import click

from filevault_desktop.api.models import Share
from filevault_desktop.cli.main import handles_errors, json_option, profile_option, service
from filevault_desktop.cli.output import emit
from filevault_desktop.remote import EntryKind, parse_duration


def _size(n: int) -> str:
    value = float(n)
    for unit in ("B", "KiB", "MiB", "GiB", "TiB"):
        if value < 1024 or unit == "TiB":
            return f"{value:.0f} {unit}" if unit == "B" else f"{value:.1f} {unit}"
        value /= 1024
    return str(n)


@click.command("ls")
@click.argument("remote", default="")
@click.option("-r", "--recursive", is_flag=True, help="Every file below the folder.")
@profile_option
@json_option
@handles_errors
def ls(remote: str, recursive: bool, profile: str | None, as_json: bool) -> None:
    """List a remote folder (default: the top)."""
    entries = service(profile).listing(remote, recursive=recursive)
    lines = []
    for e in entries:
        if e.kind is EntryKind.FOLDER:
            lines.append(f"{'':>10}  {'':20}  {e.path}/")
        elif e.file is not None:
            lines.append(f"{_size(e.file.size):>10}  {e.file.modified_at[:19]:20}  {e.path}")
    emit(entries, as_json=as_json, text="\n".join(lines) or "(empty)")


@click.command("rm")
@click.argument("remote", nargs=-1, required=True)
@profile_option
@json_option
@handles_errors
def rm(remote: tuple[str, ...], profile: str | None, as_json: bool) -> None:
    """Move remote files to the trash (see 'filevault trash' and 'filevault restore')."""
    svc = service(profile)
    removed = [svc.remove(path) for path in remote]
    emit(removed, as_json=as_json, text="\n".join(f"trashed {f.path}" for f in removed))


@click.command("mv")
@click.argument("source")
@click.argument("destination")
@profile_option
@json_option
@handles_errors
def mv(source: str, destination: str, profile: str | None, as_json: bool) -> None:
    """Rename or move a remote file (no bytes are copied)."""
    moved = service(profile).move(source, destination)
    emit(moved, as_json=as_json, text=f"moved {source} -> {moved.path}")


@click.command("versions")
@click.argument("remote")
@profile_option
@json_option
@handles_errors
def versions(remote: str, profile: str | None, as_json: bool) -> None:
    """List a file's versions, newest first."""
    found = service(profile).versions(remote)
    lines = [
        f"{'*' if v.current else ' '} {v.version_id}  {v.created_at[:19]}  {_size(v.size):>10}"
        for v in found
    ]
    emit(found, as_json=as_json, text="\n".join(lines))


@click.command("restore")
@click.argument("remote")
@click.option("--version", "version_id", default=None, help="Make this version current again.")
@click.option("--to", "target", default=None, help="Restore from the trash under another path.")
@profile_option
@json_option
@handles_errors
def restore(
    remote: str, version_id: str | None, target: str | None, profile: str | None, as_json: bool
) -> None:
    """Restore a file from the trash, or (with --version) an older version of a file."""
    svc = service(profile)
    if version_id:
        restored = svc.restore_version(remote, version_id)
        text = f"restored {restored.path} to the content of {version_id}"
    else:
        restored = svc.restore_from_trash(remote, to=target)
        text = f"restored {restored.path} from the trash"
    emit(restored, as_json=as_json, text=text)


def _share_line(s: Share) -> str:
    extras = [s.state, f"expires {s.expires_at[:19]}", f"{s.downloads} downloads"]
    if s.has_password:
        extras.append("password")
    return f"{s.share_id}  {s.path or '?'}  {s.url}  ({', '.join(extras)})"


@click.group("share")
def share() -> None:
    """Share links."""


@share.command("create")
@click.argument("remote")
@click.option("--expires", default="24h", show_default=True, help="Lifetime, e.g. 30m, 24h, 7d.")
@click.option("--password-stdin", is_flag=True, help="Protect the link with a password.")
@click.option("--max-downloads", type=click.IntRange(1), default=None)
@profile_option
@json_option
@handles_errors
def share_create(
    remote: str,
    expires: str,
    password_stdin: bool,
    max_downloads: int | None,
    profile: str | None,
    as_json: bool,
) -> None:
    """Create a link to a remote file and print its URL."""
    from filevault_desktop.cli.main import read_password

    password = read_password(True) if password_stdin else None
    created = service(profile).share(
        remote,
        expires_in_seconds=parse_duration(expires),
        password=password,
        max_downloads=max_downloads,
    )
    emit(created, as_json=as_json, text=created.url)


@share.command("ls")
@profile_option
@json_option
@handles_errors
def share_ls(profile: str | None, as_json: bool) -> None:
    """List your share links."""
    found = service(profile).shares()
    emit(found, as_json=as_json, text="\n".join(_share_line(s) for s in found) or "(no links)")


@share.command("revoke")
@click.argument("share_id")
@profile_option
@json_option
@handles_errors
def share_revoke(share_id: str, profile: str | None, as_json: bool) -> None:
    """Revoke a share link now."""
    revoked = service(profile).revoke_share(share_id)
    emit(revoked, as_json=as_json, text=f"revoked {revoked.url}")


@click.command("notifications")
@click.option("--all", "show_all", is_flag=True, help="Read ones too, not only unread ones.")
@click.option("--mark-read", is_flag=True, help="Mark the listed notifications read.")
@profile_option
@json_option
@handles_errors
def notifications(show_all: bool, mark_read: bool, profile: str | None, as_json: bool) -> None:
    """Your notifications: files processed or quarantined, share links opened or expiring."""
    svc = service(profile)
    found, _ = svc.notifications(unread_only=not show_all)
    if mark_read:
        svc.mark_notifications_read([n.notification_id for n in found if not n.read])
    lines = [f"{n.created_at[:19]:20}  {n.title}: {n.body}" for n in found]
    emit(found, as_json=as_json, text="\n".join(lines) or "(no notifications)")
