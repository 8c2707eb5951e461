"""smo-audit: audit how well a website is prepared for social media.

Kept import-free so that `smo-audit --help` stays fast: heavy modules load inside commands.
"""

__version__ = "0.1.0"
TOOL_NAME = "smo-audit"
TOOL_URL = "https://github.com/smo-audit/smo-audit"
