"""The classifiers every audit runs, in order. Each reads the catalogue, never the DOM."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from smo_audit.extract import Classifier


def default_classifiers() -> list[Classifier]:
    from smo_audit.extract.profiles import ProfileClassifier
    from smo_audit.extract.share import ShareClassifier
    from smo_audit.extract.sign_in import SignInClassifier
    from smo_audit.extract.social_widgets import SocialWidgetClassifier

    classifiers: list[Classifier] = []
    classifiers.append(ShareClassifier())  # share buttons and share widgets
    classifiers.append(ProfileClassifier())  # profile links (profile_links)
    classifiers.append(SignInClassifier())  # social sign-in, account pages, account_links
    classifiers.append(SocialWidgetClassifier())  # follow widgets, embeds, comment systems
    return classifiers
