"""The private-address rule of the fetch policy: which IP addresses a request may connect to.

An audit of a public site must not become a way to reach the auditor's own network: a page (or a
redirect, or a DNS name) can point at 127.0.0.1, 10.0.0.5, the cloud metadata service at
169.254.169.254 or a ULA address, and without this rule the tool would fetch it and copy what it
found (a title, an image size) into the report.

The check works on resolved addresses, never on the host string: the host is resolved once, every
address it resolves to is classified with `ipaddress` (so "2130706433", "0x7f000001", "127.1",
"[::ffff:10.0.0.1]" and names pointing inwards are all caught), and the connection is then made to
the checked address itself, so a second, different DNS answer (rebinding) cannot slip in. This
happens in the HTTP client's network backend (backend.py), i.e. for every connection of every request and of
every redirect hop, whatever part of the tool asked for it.

Default (`PrivateMode.AUTO`): private addresses are refused when the audited target is public and
allowed when the target itself is loopback/private (a dev server, a staging box) or a folder,
except the cloud metadata services, refused then too. `--allow-private` (everything, metadata
included) / `--block-private` override it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network

# Test-only: networks to treat as public, so a loopback test server can play the "public target"
# while another 127.x address plays the private one (never set this in production).
PUBLIC_FOR_TESTS_ENV = "SMO_AUDIT_TEST_PUBLIC_NETWORKS"

# Cloud metadata services: named separately because reaching them leaks credentials.
_METADATA = {
    ipaddress.ip_address("169.254.169.254"),  # AWS, GCP, Azure, OpenStack, DigitalOcean ...
    ipaddress.ip_address("fd00:ec2::254"),  # AWS IPv6
    ipaddress.ip_address("100.100.100.200"),  # Alibaba Cloud
    ipaddress.ip_address("169.254.170.2"),  # AWS ECS task metadata
    ipaddress.ip_address("169.254.170.23"),  # AWS EKS Pod Identity
    ipaddress.ip_address("fd00:ec2::23"),  # AWS EKS Pod Identity, IPv6
    ipaddress.ip_address("fd20:ce::254"),  # GCP IPv6
}
_CGNAT = ipaddress.ip_network("100.64.0.0/10")
_RFC1918 = tuple(ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16"))
_ULA = ipaddress.ip_network("fc00::/7")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")


class PrivateMode(StrEnum):
    AUTO = "auto"  # refuse private addresses when the target is public
    ALLOW = "allow"  # --allow-private
    BLOCK = "block"  # --block-private


def address_kind(address: IPAddress) -> str | None:
    """What makes `address` non-public ("loopback", "private (RFC 1918)", "cloud metadata" ...),
    or None for a public address. Pure: tested over ipaddress objects only."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            inner = address_kind(embedded)
            return f"{inner} (inside an IPv6 address)" if inner else None
    if address in _METADATA:
        return "cloud metadata"
    if address.is_loopback:
        return "loopback"
    if address.is_unspecified:
        return "unspecified"
    if address.is_link_local:
        return "link-local"
    if isinstance(address, ipaddress.IPv4Address):
        if any(address in net for net in _RFC1918):
            return "private (RFC 1918)"
        if address in _CGNAT:
            return "carrier-grade NAT (RFC 6598)"
    elif address in _ULA:
        return "unique-local (RFC 4193)"
    if address.is_multicast:
        return "multicast"
    if address.is_reserved or address.is_private:
        return "reserved"
    return None


@dataclass(frozen=True)
class AddressPolicy:
    """Whether connections to non-public addresses are allowed, and which networks count as public."""

    allow_private: bool
    public_networks: tuple[IPNetwork, ...] = field(default_factory=tuple)  # test-only overrides
    # Only `--allow-private` opens the cloud metadata services too: a dev server or a staging box
    # (private allowed because the target is) never needs the credentials service a page could name.
    allow_metadata: bool = False

    def refusal(self, address: IPAddress) -> str | None:
        """Why a connection to `address` is refused, or None when it is allowed."""
        kind = self.kind(address)
        if kind is None:
            return None
        if self.allow_private and (self.allow_metadata or not kind.startswith("cloud metadata")):
            return None
        return f"{address} is a {kind} address"

    def kind(self, address: IPAddress) -> str | None:
        if any(address.version == net.version and address in net for net in self.public_networks):
            return None
        return address_kind(address)


def public_networks_from_env(environ: dict[str, str] | None = None) -> tuple[IPNetwork, ...]:
    """The test-only networks to treat as public (see PUBLIC_FOR_TESTS_ENV)."""
    text = (environ if environ is not None else dict(os.environ)).get(PUBLIC_FOR_TESTS_ENV, "")
    networks: list[IPNetwork] = []
    for part in text.split(","):
        if part.strip():
            networks.append(ipaddress.ip_network(part.strip(), strict=False))
    return tuple(networks)


def decide_policy(mode: PrivateMode, target_addresses: Sequence[IPAddress], *, folder: bool,
                  public_networks: tuple[IPNetwork, ...] = ()) -> AddressPolicy:
    """The policy for one audit. AUTO: private allowed only when the target itself is non-public
    (any of its addresses) or a folder served on loopback."""
    if mode is PrivateMode.ALLOW:
        return AddressPolicy(True, public_networks, allow_metadata=True)
    if mode is PrivateMode.BLOCK:
        return AddressPolicy(False, public_networks)
    probe = AddressPolicy(False, public_networks)
    target_private = folder or any(probe.kind(a) is not None for a in target_addresses)
    return AddressPolicy(target_private, public_networks)


class AddressRefused(Exception):
    """A connection the private-address rule did not allow (kind "private-address")."""

    def __init__(self, host: str, reason: str) -> None:
        why = ("cloud metadata is refused whatever the target, unless --allow-private"
               if "cloud metadata" in reason else "the audited site is public: use --allow-private to allow it")
        super().__init__(f"{host} resolves to a non-public address ({reason}); not fetched ({why})")
        self.host = host
        self.reason = reason


def parse_ip(host: str) -> IPAddress | None:
    """A literal IP address in a URL host ("[::1]" included), else None."""
    try:
        return ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return None


async def resolve(host: str, port: int = 0) -> list[IPAddress]:
    """Every address `host` resolves to, in the resolver's order (numeric forms included)."""
    literal = parse_ip(host)
    if literal is not None:
        return [literal]
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host.strip("[]"), port or None, type=socket.SOCK_STREAM)
    seen: dict[IPAddress, None] = {}
    for info in infos:
        raw = str(info[4][0]).split("%", 1)[0]  # drop an IPv6 zone id
        seen.setdefault(ipaddress.ip_address(raw), None)
    return list(seen)


def check_addresses(policy: AddressPolicy, host: str, addresses: Iterable[IPAddress]) -> None:
    """Raise AddressRefused when any address is refused: a name with one private answer among
    public ones is refused too (the connection could land on either)."""
    for address in addresses:
        reason = policy.refusal(address)
        if reason is not None:
            raise AddressRefused(host, reason)
