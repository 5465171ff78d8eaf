"""Who the dashboard server answers: the ``Host`` names it serves, and whether it needs a token.

Pure decisions (no Voila, no tornado): :mod:`workbench.dashboards.server` makes
them at start-up, :mod:`workbench.dashboards.upstream` enforces the host check
on every request.
"""

from __future__ import annotations

import ipaddress
import secrets
import socket

from workbench.errors import WorkbenchError

ANY_ADDRESS = ("", "0.0.0.0", "::")  # bound to every address of this machine


class HostCheck:
    """Which ``Host`` headers the server answers: its own address, and names the user allowed.

    A page on another site can make a browser send requests to a server on this machine through a name
    it controls (DNS rebinding); those requests carry that name in ``Host``. A loopback server answers
    ``127.0.0.1:PORT``, ``localhost:PORT`` and ``[::1]:PORT``; one bound to another address answers that
    address too; one bound to all addresses (0.0.0.0, ::) also answers any IP address (a browser sends
    an address only when it was pointed at it) and this machine's names. ``--allow-host NAME`` adds a
    name, with any port (a reverse proxy's).
    """

    def __init__(self, port: int, names: set[str], allowed: set[str], any_ip: bool = False):
        self.port, self.names, self.allowed, self.any_ip = port, names, allowed, any_ip

    @classmethod
    def for_server(cls, host: str, port: int, allow: list[str] | tuple[str, ...] = ()) -> HostCheck:
        """The check for a server bound to `host`:`port`, with the extra names in `allow`."""
        names = {"127.0.0.1", "localhost", "[::1]"}
        any_ip = host in ANY_ADDRESS
        if any_ip:
            names |= {n.lower() for n in (socket.gethostname(), socket.getfqdn()) if n}
        else:  # e.g. 127.0.0.2 or a LAN address: also how a pre-heated kernel calls back (VOILA_APP_IP)
            names.add(f"[{host}]" if ":" in host else host.lower())
        allowed = {split_host(a)[0] for a in allow if a.strip()}
        return cls(port, names, allowed, any_ip)

    def allows(self, host_header: str | None) -> bool:
        """True when a request's ``Host`` header names this server (see the class docstring)."""
        name, port = split_host(host_header or "")
        if not name:
            return False
        if name in self.allowed:
            return True
        if port != self.port:
            return False
        if name in self.names:
            return True
        if self.any_ip:
            try:
                ipaddress.ip_address(name.strip("[]"))
                return True
            except ValueError:
                return False
        return False


def split_host(value: str) -> tuple[str, int | None]:
    """``Host`` header -> (lower-case name, IPv6 in brackets; port, 80 when absent, None when malformed)."""
    value = value.strip().lower().rstrip(".")
    if value.startswith("["):
        name, _, rest = value.partition("]")
        name, port = name + "]", rest[1:] if rest.startswith(":") else ""
    elif value.count(":") == 1:
        name, port = value.split(":")
    else:
        name, port = value, ""
    if not port:
        return name, 80
    return name.rstrip("."), int(port) if port.isdigit() else None


def check_host(host: str) -> None:
    """`host` must be an address, or a name that resolves (else one sentence, not "port in use")."""
    if host in ANY_ADDRESS:
        return
    try:
        ipaddress.ip_address(host)
        return
    except ValueError:
        pass
    try:
        socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        reason = getattr(exc, "strerror", None) or str(exc)
        raise WorkbenchError(
            f"--host {host!r} is neither an IP address nor a name this machine can resolve "
            f"({reason}); give an address of this machine, e.g. 127.0.0.1 or 0.0.0.0"
        ) from None


def decide_token(host: str, token: str | None, no_token: bool) -> str:
    """The token to require ('' for none): loopback needs none, any other address one unless opted out."""
    if token is not None and no_token:
        raise WorkbenchError("--token and --no-token cannot be used together")
    if token is not None:
        if not token.strip():
            raise WorkbenchError("--token must not be empty (use --no-token to serve without one)")
        return token
    if no_token or is_loopback(host):
        return ""
    return secrets.token_urlsafe(24)


def is_loopback(host: str) -> bool:
    """Only this machine can connect: localhost, 127.0.0.0/8, ::1."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
