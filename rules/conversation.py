"""Conversation: comments, follow widgets and social embeds that invite readers to respond.

Facts come from smo_audit/extract/social_widgets.py (pages[].facts.social_widgets[]). Inviting
conversation is a strength, credited on content pages and never failed for its absence; a widget
that loads only half of itself (script without container, or the other way round) is a warning,
because it renders nothing.
"""

from __future__ import annotations

from smo_audit.engine.api import Outcome, PageContext, page_rule, passed, skipped, warned
from smo_audit.extract.facts import SocialWidget

KIND_WORDS = {"comments": "comments", "follow": "a follow widget", "embed": "embedded social posts"}
# The kinds that invite readers to respond: a video player (kind "video") is content, not conversation.
INVITING_KINDS = frozenset(KIND_WORDS)


def _describe(widget: SocialWidget) -> str:
    return f"{widget.provider} {widget.kind}: {widget.evidence[:200]}"


def _renders(widget: SocialWidget) -> bool:
    """Both halves it needs are there (widget-incomplete warns about the others): a lone
    a.twitter-timeline without widgets.js is a plain link, and a dead service shows nothing."""
    return not widget.dead and widget.has_script is not False and widget.has_container is not False


@page_rule(id="conversation-invited", title="Content pages invite conversation", category="conversation",
           severity="info", weight=1)
def conversation_invited(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    On content pages (articles), credits comment systems (Disqus, giscus, utterances, Commento,
    Facebook comments, a native comment form), follow widgets (Facebook Page plugin, X timeline,
    YouTube subscribe button) and social embeds. Only widgets that render count: one missing its
    script or container (widget-incomplete) shows nothing, and a video player (a YouTube embed) is
    content, not conversation. Pages without any are not judged. Comments shown as closed
    ("Comments are closed.") are noted.

    ## Why it matters
    Readers who can respond, or follow the author in one click, come back and share; a thread
    under a post is the conversation social media optimisation tries to start. Comments closed
    automatically after a few weeks end that conversation while the post is still being shared.

    ## Failing example
    ```html
    <article>…</article>
    <p class="nocomments">Comments are closed.</p>
    ```

    ## Passing example
    ```html
    <article>…</article>
    <div id="disqus_thread"></div>
    <script src="https://acme.disqus.com/embed.js" async></script>
    ```

    ## How to fix
    Add a comment system or a follow widget to article templates, or link to where the
    conversation happens (a social post, a forum thread); consider keeping comments open on posts
    that are still being shared.

    ## References
    - https://wordpress.org/documentation/article/settings-discussion-screen/
    - https://developers.facebook.com/docs/plugins/page-plugin/
    """
    if ctx.facts.page_type != "article":
        return skipped("not an article: comments and follow widgets are credited on articles only")
    widgets = [w for w in ctx.facts.social_widgets if _renders(w)]
    inviting = [w for w in widgets if not w.closed and w.kind in INVITING_KINDS]
    if inviting:
        kinds = ", ".join(dict.fromkeys(KIND_WORDS.get(w.kind, w.kind) for w in inviting))
        return passed(f"this article invites conversation: {kinds}", *(_describe(w) for w in inviting))
    closed = [w for w in widgets if w.closed]
    if closed:
        return warned("comments are closed on this article and nothing else invites readers to respond",
                      *(w.evidence for w in closed))
    # Not failed: many good sites have no comments. Skipped with the reason, so the category's
    # absence says what was looked for instead of "no rule applied".
    if any(not _renders(w) for w in ctx.facts.social_widgets):
        return skipped("no comment system, follow widget or social embed on this article renders "
                       "(see widget-incomplete; credited where present, never failed for its absence)")
    return skipped("no comment system, follow widget or social embed on this article "
                   "(credited where present, never failed for its absence)")


@page_rule(id="widget-incomplete", title="Social widgets have script and container", category="conversation",
           severity="warning", weight=1)
def widget_incomplete(ctx: PageContext) -> Outcome | None:
    """
    ## What it checks
    Every follow widget, embed and comment system on the page has both halves it needs: the
    provider's script and the element it renders into (`#disqus_thread`, `div.fb-page`,
    `blockquote.instagram-media`, ...). Widgets that render in place (giscus, utterances) or come
    as an iframe need only one. A hygiene rule: passing it earns no points, and a broken widget
    costs a share of the Conversation score, so a page whose only widget renders nothing scores
    below one with no widget at all.

    ## Why it matters
    Half a widget renders nothing, silently: a Disqus script with no `#disqus_thread` shows no
    comments, a `div.fb-page` without the Facebook SDK stays an empty box, an Instagram blockquote
    without embed.js is a plain link. It usually happens when a template or a consent manager
    drops one half.

    ## Failing example
    ```html
    <div class="fb-comments" data-href="https://example.com/post"></div>
    <!-- no connect.facebook.net/…/sdk.js -->
    ```

    ## Passing example
    ```html
    <div class="fb-comments" data-href="https://example.com/post"></div>
    <script async src="https://connect.facebook.net/en_US/sdk.js"></script>
    ```

    ## How to fix
    Add the missing script or container from the provider's embed code; if a consent manager
    loads the script, make sure the container is still in the page.

    ## References
    - https://help.disqus.com/en/articles/1717112-universal-embed-code
    - https://developers.facebook.com/docs/plugins/comments/
    """
    checked = [w for w in ctx.facts.social_widgets
               if not w.dead and not w.closed and w.has_script is not None and w.has_container is not None]
    if not checked:
        return skipped("no comment system, follow widget or social embed on this page to check")
    broken = []
    for widget in checked:
        if widget.has_container and not widget.has_script:
            broken.append(f"{widget.widget or widget.provider}: container without its script ({widget.evidence[:200]})")
        elif widget.has_script and not widget.has_container:
            broken.append(f"{widget.widget or widget.provider}: script without its container ({widget.evidence[:200]})")
    if broken:
        return warned(f"{len(broken)} social widget(s) load only half of what they need and render nothing", *broken)
    return passed(f"{len(checked)} social widget(s) have their script and container",
                  *(_describe(w) for w in checked))
