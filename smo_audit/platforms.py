"""A typed, validated view of rules/catalogue/platforms.toml: the link-preview platforms.

The engine knows no platform by name; this module only gives the catalogue's data a shape so
the preview builder and the link-preview rules do not each re-parse raw dicts. Loaded once per
process (the catalogue is immutable while a run lasts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from functools import cache
from typing import Any, Literal, TypeAlias

from smo_audit.catalogue import section

Confidence: TypeAlias = Literal["high", "medium", "low"]
RobotsPolicy: TypeAlias = Literal["yes", "no", "unknown"]
_CONFIDENCE = ("high", "medium", "low")
_IMAGE_INT_FIELDS = (
    "min_width", "min_height", "large_min_width", "large_min_height", "recommended_width",
    "recommended_height", "max_width", "max_height", "max_bytes", "warn_bytes",
)
DEFAULT_IMAGE_FETCH_BYTES = 8 * 1024 * 1024 + 1


@dataclass(frozen=True, slots=True)
class ImageSpec:
    """What a platform accepts as a preview image. None means "no limit known"."""

    min_width: int | None = None
    min_height: int | None = None
    large_min_width: int | None = None  # below: a small thumbnail instead of the large card
    large_min_height: int | None = None
    recommended_width: int | None = None
    recommended_height: int | None = None
    aspect: float | None = None  # width / height
    aspect_tolerance: float = 0.1  # relative
    aspect_effect: Literal["degraded", "note"] = "degraded"
    max_width: int | None = None
    max_height: int | None = None
    max_bytes: int | None = None
    warn_bytes: int | None = None
    types: frozenset[str] = frozenset()
    confidence: Confidence = "low"

    def aspect_matches(self, width: int, height: int) -> bool:
        if self.aspect is None or height <= 0:
            return True
        return abs(width / height - self.aspect) <= self.aspect * self.aspect_tolerance


@dataclass(frozen=True, slots=True)
class Source:
    fact: str
    url: str
    confidence: Confidence


@dataclass(frozen=True, slots=True)
class Platform:
    id: str
    name: str
    user_agent: str
    robots_token: str | None
    obeys_robots: RobotsPolicy
    reads: tuple[str, ...]
    preview: bool
    check_cloaking: bool
    image: ImageSpec
    cards: Mapping[str, ImageSpec] = field(default_factory=dict)
    card_types: tuple[str, ...] = ()
    title_max: int | None = None
    description_max: int | None = None
    card_title_chars: int | None = None  # display only: the report's card cuts the text there
    card_description_chars: int | None = None
    html_read_limit: int | None = None
    html_read_limit_confidence: Confidence = "low"
    sources: Mapping[str, Source] = field(default_factory=dict)

    @property
    def shown_title_chars(self) -> int | None:
        return self.title_max or self.card_title_chars

    @property
    def shown_description_chars(self) -> int | None:
        return self.description_max or self.card_description_chars

    def image_spec(self, card: str | None = None) -> ImageSpec:
        """The image limits, for a given card type when the platform has per-card limits."""
        if card is not None and card in self.cards:
            return self.cards[card]
        return self.image


def _confidence(value: Any, where: str) -> Confidence:
    if value not in _CONFIDENCE:
        raise ValueError(f"platforms.toml {where}: confidence must be high, medium or low, not {value!r}")
    result: Confidence = value
    return result


def _image(raw: Mapping[str, Any], base: ImageSpec, where: str) -> ImageSpec:
    values: dict[str, Any] = {}
    for name in _IMAGE_INT_FIELDS:
        if name in raw:
            values[name] = int(raw[name])
    if "aspect" in raw:
        values["aspect"] = float(raw["aspect"])
    if "aspect_tolerance" in raw:
        values["aspect_tolerance"] = float(raw["aspect_tolerance"])
    if "aspect_effect" in raw:
        if raw["aspect_effect"] not in ("degraded", "note"):
            raise ValueError(f"platforms.toml {where}: aspect_effect must be degraded or note")
        values["aspect_effect"] = raw["aspect_effect"]
    if "types" in raw:
        values["types"] = frozenset(str(t).lower() for t in raw["types"])
    if "confidence" in raw:
        values["confidence"] = _confidence(raw["confidence"], where)
    return replace(base, **values)


def _platform(key: str, raw: Mapping[str, Any]) -> Platform:
    image = _image(raw.get("image", {}), ImageSpec(), f"[{key}.image]")
    cards = {card: _image(spec, image, f"[{key}.cards.{card}]") for card, spec in raw.get("cards", {}).items()}
    sources = {
        name: Source(str(s.get("fact", "")), str(s.get("url", "")), _confidence(s.get("confidence"), f"[{key}.sources.{name}]"))
        for name, s in raw.get("sources", {}).items()
    }
    robots: Any = raw.get("obeys_robots", "unknown")
    if robots not in ("yes", "no", "unknown"):
        raise ValueError(f"platforms.toml [{key}]: obeys_robots must be yes, no or unknown")
    return Platform(
        id=key,
        name=str(raw["name"]),
        user_agent=str(raw.get("user_agent", "")),
        robots_token=raw.get("robots_token"),
        obeys_robots=robots,
        reads=tuple(raw.get("reads", ("og", "html"))),
        preview=bool(raw.get("preview", False)),
        check_cloaking=bool(raw.get("check_cloaking", False)),
        image=image,
        cards=cards,
        card_types=tuple(raw.get("card_types", ())),
        title_max=raw.get("title_max"),
        description_max=raw.get("description_max"),
        card_title_chars=raw.get("card_title_chars"),
        card_description_chars=raw.get("card_description_chars"),
        html_read_limit=raw.get("html_read_limit"),
        html_read_limit_confidence=_confidence(raw.get("html_read_limit_confidence", "low"), f"[{key}]"),
        sources=sources,
    )


@cache
def platforms() -> tuple[Platform, ...]:
    """Every platform of the catalogue, in file order."""
    return tuple(_platform(key, raw) for key, raw in section("platforms").items()
                 if isinstance(raw, dict) and "name" in raw)


def platform(platform_id: str) -> Platform | None:
    return next((p for p in platforms() if p.id == platform_id), None)


def preview_platforms() -> tuple[Platform, ...]:
    """The platforms whose card the report draws (pages[].preview)."""
    return tuple(p for p in platforms() if p.preview)


@cache
def image_fetch_limit() -> int:
    """Bytes read of a preview image: the largest enforced limit + 1, so "too large" shows."""
    value = section("platforms").get("fetch", {}).get("image_max_bytes", DEFAULT_IMAGE_FETCH_BYTES)
    return int(value)
