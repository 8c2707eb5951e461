"""Is a URL on the production host? Shared by the rules that judge og:url and canonical URLs.

The production host is known when `--base-url` names it, or when a live site is audited (its own
host); auditing a build folder without `--base-url` leaves it unknown. Host patterns are shell
globs, overridable per rule through its `staging_hosts` / `preview_hosts` options.
"""

from __future__ import annotations

from collections.abc import Sequence
from fnmatch import fnmatchcase

from smo_audit.engine.api import PageContext
from smo_audit.preview import host_of, is_local_host

STAGING_HOSTS = ("staging.*", "*.staging.*", "*-staging.*", "stage.*", "stg.*", "dev.*", "uat.*", "qa.*", "test.*",
                 "preview.*", "beta.*", "*.local", "*.internal")
PREVIEW_HOSTS = ("*.vercel.app", "*.netlify.app", "*.herokuapp.com", "*.pages.dev", "*.ngrok.io", "*.ngrok-free.app",
                 "*.azurewebsites.net", "*.onrender.com", "*.fly.dev", "*.workers.dev")


def production_host(ctx: PageContext) -> str | None:
    """The production host, when it is known (see the module docs)."""
    if ctx.settings.base_url:
        return host_of(ctx.settings.base_url) or None
    page_host = host_of(ctx.final_url)
    if ctx.settings.local_copy or is_local_host(page_host):
        return None
    return page_host or None


def off_production(url: str, ctx: PageContext, staging: Sequence[str] = STAGING_HOSTS,
                   previews: Sequence[str] = PREVIEW_HOSTS) -> str | None:
    """Why `url` is not a production address (a local, staging or preview host), or None."""
    host = host_of(url)
    production = production_host(ctx)
    if not host:
        return None
    page_host = host_of(ctx.final_url)
    if is_local_host(host):
        if host == production or (production is None and not ctx.settings.local_copy and is_local_host(page_host)):
            return None  # a local server audited as the site itself, with no other production host known
        return f"a local address ({host}) no one else can open"
    if any(fnmatchcase(host, p.lower()) for p in staging):
        if host == page_host and not ctx.settings.base_url:
            return None  # the staging server audited as itself: its own address is right there
        # Flagged even when it is the production host detected from a build's own tags: a build
        # whose every og:url names staging.* was built with the staging base URL.
        return f"a staging host ({host})" + (f", not the production host {production}"
                                              if production and production != host else "")
    if host == production:
        return None
    if production is not None and any(fnmatchcase(host, p.lower()) for p in previews):
        return f"a preview-deployment host ({host}), not the production host {production}"
    return None
