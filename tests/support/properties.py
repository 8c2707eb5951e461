"""How many examples a property test runs: bounded in `make test`, longer on demand.

The hypothesis profiles are registered in tests/conftest.py and chosen with SMO_AUDIT_HYPOTHESIS
(`ci` by default, `long` for the run SECURITY.md documents). A test that needs more examples
than the profile's default (a cheap sniffer over arbitrary bytes) or fewer (a metamorphic test
that audits whole sites per example) states its weight with `examples(n)`: n under `ci`, scaled
by the same factor as every other property test under `long`. A literal `max_examples=` would
pin the count and make the long run skip that test's extra examples.
"""

from __future__ import annotations

from hypothesis import settings

PROFILE_ENV = "SMO_AUDIT_HYPOTHESIS"
CI_EXAMPLES = 50  # the `ci` profile's default
LONG_EXAMPLES = 500  # the `long` profile's default: ~10x


def examples(ci: int) -> int:
    """`ci` examples under the ci profile, scaled like the loaded profile's default otherwise.

    Read when the test module is imported, after conftest.py has loaded the profile."""
    return max(1, ci * settings.default.max_examples // CI_EXAMPLES)
