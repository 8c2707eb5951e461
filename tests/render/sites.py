"""Fixture pages for rendered-mode tests, served by a ScriptedServer on 127.0.0.1.

Each page has one share button under test (`#target`) among ordinary markup; the home page links
to every page so one crawl (one Chromium) renders them all.
"""

from __future__ import annotations

from tests.support.scripted_server import Reply, html

SHARE = "https://www.facebook.com/sharer/sharer.php?u=https%3A%2F%2Fexample.com%2Fpost"
X_SHARE = "https://x.com/intent/post?url=https%3A%2F%2Fexample.com%2Fpost"
BUTTON = "display:inline-block;min-width:48px;min-height:48px;padding:4px"
VIEWPORT = '<meta name="viewport" content="width=device-width, initial-scale=1">'


def page(body: str, head: str = "", title: str = "A post") -> str:
    return (f"<!doctype html><html lang='en'><head><meta charset='utf-8'>{VIEWPORT}<title>{title}</title>"
            f"<meta property='og:title' content='{title}'>{head}</head><body><h1>{title}</h1>{body}</body></html>")


def target(style: str = BUTTON, label: str = "Share on Facebook", inner: str | None = None) -> str:
    return f"<a id='target' href='{SHARE}' style='{style}'>{label if inner is None else inner}</a>"


TALL = "<div style='height:4000px'>long article</div>"

VISIBILITY_PAGES: dict[str, str] = {
    "/good": page(f"<div class='share'>{target()}</div>"),
    "/display-none": page(f"<div class='share'>{target(BUTTON + ';display:none')}</div>"),
    "/visibility-hidden": page(f"<div class='share' style='visibility:hidden'>{target()}</div>"),
    "/zero-size": page(f"<div class='share'>{target('display:inline-block;width:0;height:0;overflow:hidden')}</div>"),
    "/off-screen": page(f"<div class='share' style='position:absolute;left:-9999px'>{target()}</div>"),
    "/transparent": page(f"<div class='share' style='opacity:0'>{target()}</div>"),
    "/clipped": page(f"<div style='height:0;overflow:hidden'><div class='share'>{target()}</div></div>"),
    "/below-fold": page(f"{TALL}<div class='share'>{target()}</div>"),
    "/sticky": page(f"<div class='share' style='position:fixed;bottom:0;left:0'>{target()}</div>{TALL}"),
    "/cookie-banner": page(
        f"<div class='share' style='position:fixed;bottom:0;left:0'>{target()}</div>{TALL}"
        "<div id='cookie-banner' style='position:fixed;bottom:0;left:0;right:0;height:160px;background:#eee'>"
        "We use cookies <button>OK</button></div>"),
    "/small": page(f"<div class='share'>{target('display:inline-block;width:16px;height:16px;overflow:hidden', 'f')}</div>"),
    "/medium": page(f"<div class='share'>{target('display:inline-block;width:30px;height:30px;overflow:hidden', 'f')}</div>"),
    "/icon-only": page(f"<div class='share'>{target(inner='<svg width=32 height=32><rect width=32 height=32/></svg>')}</div>"),
    "/mobile-hidden": page(f"<div class='share'>{target()}</div>",
                           head="<style>@media (max-width: 600px) { .share { display: none } }</style>"),
    # the "visually hidden" idiom: a clip-path that leaves nothing of the bar
    "/clip-path": page(f"<div class='share' style='clip-path:inset(50%)'>{target()}</div>"),
    # fixed below the screen: no scrolling ever brings it into view
    "/fixed-below": page(f"<div class='share' style='position:fixed;top:3000px;left:0'>{target()}</div>{TALL}"),
    # past the right edge of a page that cannot scroll sideways (the body's overflow is the viewport's)
    "/no-side-scroll": page(f"<div class='share' style='position:absolute;left:3000px;top:10px'>{target()}</div>",
                            head="<style>body { overflow-x: hidden }</style>"),
    # the same in the body's flow with <html> hiding too: the body's own box clips it (an absolutely
    # positioned bar would escape it: the body is not its containing block)
    "/body-clips": page(f"<div class='share' style='margin-left:3000px'>{target()}</div>",
                        head="<style>html, body { overflow-x: hidden }</style>"),
    # a sticky bar further down the page, with nothing over it
    "/sticky-deep": page(f"{TALL}<div class='share' style='position:sticky;top:0'>{target()}</div>{TALL}"),
    # an ancestor's ::after drawn over the bar (a paywall's fade): the tap lands on the article
    "/paywall-fade": page(f"<article style='position:relative'><p>Text</p><div class='share'>{target()}</div></article>",
                          head="<style>article::after { content: ''; position: absolute; left: 0; right: 0; bottom: 0;"
                               " height: 300px; background: rgba(255,255,255,0.9); z-index: 5 }</style>"),
    # hidden by a filter rather than the opacity property
    "/filter-opacity": page(f"<div class='share' style='filter:opacity(0)'>{target()}</div>"),
    # an inline link around a 44 px icon: the icon is what is tapped
    "/inline-icon": page("<div class='share'>" + target(
        "", inner="<svg role='img' aria-label='Share on Facebook' width='44' height='44'><rect width='44' height='44'/></svg>")
        + "</div>"),
    # a crossed polygon (a bow-tie) has no signed area but shows two triangles of the bar
    "/bow-tie": page(f"<div class='share' style='clip-path:polygon(0 0, 100% 100%, 100% 0, 0 100%)'>{target()}</div>"),
    # fixed inside a transformed ancestor: it scrolls with the page, below the long article
    "/fixed-in-transform": page(f"{TALL}<div style='transform:translateZ(0)'>"
                                f"<div class='share' style='position:fixed;top:0;left:0'>{target()}</div></div>"),
    # a body whose scrolling a consent dialog locks for now: the bar below is reached once it is answered
    "/scroll-locked": page(f"{TALL}<div class='share'>{target()}</div>", head="<style>body { overflow: hidden }</style>"),
    # below its scroller's visible part: scrolled to, not clipped
    "/inner-scroller": page(f"<div style='height:300px;overflow:auto'>{TALL}<div class='share'>{target()}</div></div>"),
    # -- a fixed or absolutely positioned box escapes an overflow-hiding ancestor below its
    # containing block (a sticky bar inside a collapsed wrapper), not one at or above it
    "/fixed-escapes-clip": page(f"<div style='height:0;overflow:hidden'>"
                                f"<div class='share' style='position:fixed;bottom:0;left:0'>{target()}</div></div>"),
    "/absolute-escapes-clip": page(f"<div style='position:relative'><div style='width:0;height:0;overflow:hidden'>"
                                   f"{target(BUTTON + ';position:absolute;top:0;left:0')}</div></div>"),
    "/absolute-clipped": page(f"<div style='position:relative;height:0;overflow:hidden'><div>"
                              f"{target(BUTTON + ';position:absolute;top:10px;left:0')}</div></div>"),
    "/fixed-held-clipped": page(f"<div style='height:0;overflow:hidden;transform:translateZ(0)'>"
                                f"<div class='share' style='position:fixed;top:10px;left:0'>{target()}</div></div>"),
    # -- two buttons a selector query finds on the same first element: `a.fb` and `button` match
    # the hidden `a.fb.m` and `button.share-fb` first
    "/same-selector": page(
        f"<a class='fb m' href='{SHARE}' style='{BUTTON};display:none'>Share on Facebook</a>"
        f"<a class='fb' href='{SHARE}' style='{BUTTON}'>Share on Facebook</a>"
        "<button class='share-fb' style='display:none' onclick=\"window.open('https://www.facebook.com/sharer/"
        "sharer.php?u='+encodeURIComponent(location.href))\">Share on Facebook</button>"
        f"<button style='{BUTTON}' onclick=\"window.open('https://twitter.com/intent/tweet?url='"
        "+encodeURIComponent(location.href))\">Post on X</button>"),
    # -- <input> buttons: found as the extractor named them (input.share-fb, input[type="button"])
    "/input-buttons": page(
        f"<input type='button' class='share-fb' value='Share on Facebook' style='{BUTTON}' "
        "onclick=\"window.open('https://www.facebook.com/sharer/sharer.php?u='+encodeURIComponent(location.href))\">"
        "<input type='Button' value='Post on X' style='display:none' "
        "onclick=\"window.open('https://twitter.com/intent/tweet?url='+encodeURIComponent(location.href))\">"
        f"<input type='image' src='data:image/gif;base64,R0lGODlhAQABAAAAACw=' alt='Share on LinkedIn' "
        f"style='width:48px;height:48px' onclick=\"window.open('https://www.linkedin.com/sharing/share-offsite/"
        "?url='+encodeURIComponent(location.href))\">"
        f"<button style='{BUTTON}' onclick=\"window.open('https://wa.me/?text='"
        "+encodeURIComponent(location.href))\">WhatsApp</button>"),
    # -- a link whose own box is not generated: its contents' boxes are what shows
    "/display-contents": page(f"<p>{target('display:contents')}</p>"),
    # -- hrefs the extractor keeps stripped and clipped to 2,048 characters
    "/href-spaces": page(f"<a id='target' href='  {SHARE}\n' style='{BUTTON}'>Share on Facebook</a>"),
    "/href-long": page(f"<a id='target' href='{SHARE}&amp;t={'a' * 2100}' style='{BUTTON}'>Share on Facebook</a>"),
    # -- icons that are not part of the tap area: cut off by the link's own overflow, or far away
    "/icon-clipped": page(target("display:inline-block;width:16px;height:16px;overflow:hidden",
                                 inner="<svg width='44' height='44'><rect width='44' height='44'/></svg>")),
    "/icon-far": page(target("display:inline-block;width:16px;height:16px;background:#36c",
                             inner="<svg width='44' height='44' style='position:absolute;left:-2000px'>"
                                   "<rect width='44' height='44'/></svg>")),
    # -- a 200 px sideways share bar: the target is out of its view until scrolled; laid out
    # last (`order`) but first in the document, so it is measured before `a#first`
    "/scrolled-out": page(
        "<div style='display:flex;width:200px;overflow-x:auto'>"
        f"<a id='target' href='{SHARE}' style='order:2;flex:none;width:60px;height:44px;background:#3a3'>f</a>"
        f"<a id='first' href='{X_SHARE}' style='order:1;flex:none;width:60px;height:44px;background:#333'>x</a>"
        "<span style='order:1;flex:none;width:200px;height:44px'></span></div>"),
    # -- a right-to-left page scrolls left: content past its left edge is reached, past its right not
    "/rtl": page(f"{target(BUTTON + ';position:absolute;left:-600px;top:100px')}"
                 f"<a id='right' href='{X_SHARE}' style='{BUTTON};position:absolute;left:3000px;top:100px'>X</a>"
                 ).replace("<html lang='en'>", "<html lang='ar' dir='rtl'>"),
    # -- accessible names as Chromium computes them: aria-hidden content is not part of the name,
    # aria-labelledby wins over aria-label
    "/names": page(
        f"<a id='hidden-svg' href='{SHARE}'><svg aria-hidden='true' width='32' height='32'><title>X</title>"
        "<rect width='32' height='32'/></svg></a>"
        f"<a id='hidden-img' href='{SHARE}'><span aria-hidden='true'><img alt='X' width='32' height='32' "
        "src='data:image/gif;base64,R0lGODlhAQABAAAAACw='></span></a>"
        f"<a id='hidden-text' href='{SHARE}' title='Share (title)'><span aria-hidden='true'>X</span></a>"
        f"<a id='mixed-text' href='{SHARE}'><span aria-hidden='true'>X</span> Share <span style='display:none'>"
        "hidden</span>now</a>"
        "<span id='lbl'>Share on LinkedIn (labelledby)</span>"
        f"<a id='labelled' href='{SHARE}' aria-label='wrong' aria-labelledby='lbl'>in</a>"),
}


def home(paths: list[str]) -> str:
    return page("".join(f"<a href='{p}'>{p}</a> " for p in paths), title="Home")


def visibility_routes() -> dict[str, Reply | str]:
    routes: dict[str, Reply | str] = {path: html(body) for path, body in VISIBILITY_PAGES.items()}
    routes["/"] = html(home(list(VISIBILITY_PAGES)))
    return routes


# -- what JavaScript changes ------------------------------------------------------------------------

INJECT_OG = """<script>
for (const [k, v] of [["og:image", "/og.png"], ["og:description", "Set by a script"]]) {
  const m = document.createElement("meta"); m.setAttribute("property", k); m.content = v; document.head.appendChild(m);
}
</script>"""

# A share widget whose script fills its container with share links (as AddToAny's page.js fills
# `.a2a_kit` with `a.a2a_button_*` anchors), served locally.
WIDGET_SCRIPT = """
document.querySelectorAll('.a2a_kit').forEach((kit) => {
  const page = encodeURIComponent(location.href);
  for (const net of ['facebook', 'x', 'whatsapp']) {
    const a = document.createElement('a');
    a.className = 'a2a_button_' + net;
    a.href = 'https://www.addtoany.com/add_to/' + net + '?linkurl=' + page;
    a.textContent = net;
    a.style.cssText = 'display:inline-block;min-width:48px;min-height:48px';
    kit.appendChild(a);
  }
});
"""

SIGN_IN_SCRIPT = """
const a = document.createElement('a');
a.href = 'https://accounts.google.com/o/oauth2/v2/auth?client_id=1&redirect_uri=' + encodeURIComponent(location.origin + '/cb') + '&response_type=code&scope=openid';
a.textContent = 'Sign in with Google';
document.getElementById('login').appendChild(a);
"""

# FirebaseUI draws one button per configured provider into its container (served locally).
FIREBASEUI_SCRIPT = """
const box = document.getElementById('firebaseui-auth-container');
box.innerHTML = '<div class="firebaseui-container"><ul>' +
  '<li><button class="firebaseui-idp-button firebaseui-idp-google" data-provider-id="google.com">' +
  '<span class="firebaseui-idp-text">Sign in with Google</span></button></li>' +
  '<li><button class="firebaseui-idp-button firebaseui-idp-github" data-provider-id="github.com">' +
  '<span class="firebaseui-idp-text">Sign in with GitHub</span></button></li></ul></div>';
"""

SCRIPT_PAGES: dict[str, str] = {
    "/og-by-script": page(f"<div class='share'>{target()}</div>", head=INJECT_OG),
    "/widget": page("<div class='a2a_kit'></div><script src='/widget.js'></script>"),
    "/sign-in": page("<form action='/login' method='post'><input name='email' type='email'>"
                     "<input name='password' type='password'><button>Log in</button></form>"
                     "<div id='login'></div><script src='/sign-in.js'></script>", title="Log in"),
    "/retitled": page("<script>document.title = 'Changed by a script';"
                      "const l = document.createElement('link'); l.rel = 'canonical'; l.href = '/elsewhere';"
                      "document.head.appendChild(l);</script>"),
    "/firebaseui": page("<div id='firebaseui-auth-container'></div><script src='/firebaseui.js'></script>",
                        title="Sign in"),
    # drawn 20 ms after `load` (a load handler touches the DOM first, so the drawing always falls
    # within the quiet window): the DOM at `load` has no buttons, the DOM measured has them
    # AddToAny-style placeholders a script fills in: the same buttons, now with their links
    "/placeholders": page("<div class='a2a_kit'><a class='a2a_button_facebook'></a><a class='a2a_button_x'></a></div>"
                          "<script>document.querySelectorAll('.a2a_kit a').forEach((a) => {"
                          " const net = a.className.replace('a2a_button_', '');"
                          " a.href = 'https://www.addtoany.com/add_to/' + net + '?linkurl=' + encodeURIComponent(location.href);"
                          " a.textContent = net; a.style.cssText = 'display:inline-block;min-width:48px;min-height:48px'; });"
                          "</script>"),
    "/after-load": page("<div class='a2a_kit'></div><script>addEventListener('load', () => {"
                        "document.body.dataset.loaded = '1'; setTimeout(() => { " + WIDGET_SCRIPT.replace("\n", " ")
                        + " }, 20); });</script>"),
    # a DOM that never goes quiet (a clock ticking every 5 ms): measured after the settle bound
    "/ticking": page(f"<div class='share'>{target()}</div><span id='clock'></span><script>"
                     "setInterval(() => { document.getElementById('clock').textContent = String(Date.now()); }, 5);"
                     "</script>"),
}


def script_routes() -> dict[str, Reply | str]:
    routes: dict[str, Reply | str] = {path: html(body) for path, body in SCRIPT_PAGES.items()}
    routes["/widget.js"] = Reply(200, {"content-type": "text/javascript"}, WIDGET_SCRIPT)
    routes["/sign-in.js"] = Reply(200, {"content-type": "text/javascript"}, SIGN_IN_SCRIPT)
    routes["/firebaseui.js"] = Reply(200, {"content-type": "text/javascript"}, FIREBASEUI_SCRIPT)
    routes["/"] = html(home(list(SCRIPT_PAGES)))
    return routes


# -- failure handling ------------------------------------------------------------------------------

FAILURE_PAGES: dict[str, str] = {
    # a blocking script that never arrives: the document is never parsed (render-timeout)
    "/never-parsed": page(f"<div class='share'>{target()}</div><script src='/never.js'></script>"),
    # an image that never arrives: `load` never fires; the page is measured as it stood
    "/never-loaded": page(f"<div class='share'>{target()}</div><img src='/never.png' alt=''>"),
    "/throws": page(f"<div class='share'>{target()}</div><script>throw new Error('boom from the page')</script>"),
    # alert() in a loop, window.open, a target=_blank click, and a navigation away
    "/alert-loop": page(
        f"<div class='share'>{target()}</div><a id='away' href='/popup' target='_blank'>x</a>"
        "<script>setInterval(() => alert('hi'), 5); window.open('/popup');"
        "document.getElementById('away').click();"
        "setTimeout(() => { location.href = '/elsewhere'; }, 10);</script>"),
    # a stylesheet under a robots.txt Disallow: the browser obeys the audit's fetch policy too
    "/robots-blocked": page(f"<div class='share'>{target()}</div>",
                            head="<link rel='stylesheet' href='/private/style.css'>"),
}


NEVER_DELAY = 110.0  # seconds the server holds /never.js and /never.png (within its 120 s lifetime)


def failure_routes() -> dict[str, Reply | str]:
    routes: dict[str, Reply | str] = {path: html(body) for path, body in FAILURE_PAGES.items()}
    routes["/never.js"] = Reply(200, {"content-type": "text/javascript"}, "1", delay=NEVER_DELAY)
    routes["/never.png"] = Reply(200, {"content-type": "image/png"}, b"", delay=NEVER_DELAY)
    routes["/popup"] = html(page("a popup"))
    routes["/elsewhere"] = html(page("elsewhere"))
    routes["/private/style.css"] = Reply(200, {"content-type": "text/css"}, "body { color: red }")
    routes["/robots.txt"] = Reply(200, {"content-type": "text/plain"}, "User-agent: *\nDisallow: /private/\n"
                                  "Disallow: /popup\nDisallow: /elsewhere\n")
    routes["/"] = html(home(list(FAILURE_PAGES)))
    return routes


# -- template sampling -----------------------------------------------------------------------------

def _shares(n: int, extra: str = "") -> str:
    url = f"https%3A%2F%2Fexample.com%2F{n}"
    return (f"<a class='share-fb' href='https://www.facebook.com/sharer/sharer.php?u={url}' style='{BUTTON}'>Facebook</a>"
            f"<a class='share-x' href='https://x.com/intent/post?url={url}' style='{BUTTON}'>X</a>{extra}")


def article(n: int, extra: str = "") -> str:
    return page(f"<header class='site-header'><nav><a href='/'>Home</a></nav></header>"
                f"<main><article class='post post-{n}'><p>Article {n} text.</p>"
                f"<div class='share-bar'>{_shares(n, extra)}</div></article></main>"
                "<footer class='site-footer'>(c)</footer>", title=f"Article {n}")


def product(n: int) -> str:
    # the share row is hidden on phones by the product template's stylesheet
    return page(f"<div class='layout'><div class='product' id='product-{n}'><p>Product {n}</p>"
                f"<section class='share-row'>{_shares(n)}</section></div></div>",
                head="<style>@media (max-width: 600px) { .share-row { display: none } }</style>",
                title=f"Product {n}")


def doc(n: int) -> str:
    return page(f"<aside class='toc'><ul><li>One</li><li>Two</li></ul></aside>"
                f"<main class='doc'><section><p>Doc {n}</p>{TALL}</section></main>"
                f"<div class='share-float' style='position:fixed;right:0;top:40%'>{_shares(n)}</div>",
                title=f"Doc {n}")


TEMPLATE_PAGES = 10  # per template: three templates, 30 pages
ODD = "/article/odd"  # an article whose share bar has one more button than its template's


def template_routes() -> dict[str, Reply | str]:
    routes: dict[str, Reply | str] = {}
    for n in range(1, TEMPLATE_PAGES + 1):
        routes[f"/article/{n}"] = html(article(n))
        routes[f"/product/{n}"] = html(product(n))
        routes[f"/doc/{n}"] = html(doc(n))
    routes[ODD] = html(article(99, extra="<a class='share-li' href='https://www.linkedin.com/sharing/share-offsite/"
                                          "?url=https%3A%2F%2Fexample.com%2F99' style='display:inline-block;"
                                          "min-width:48px;min-height:48px'>LinkedIn</a>"))
    routes["/"] = html(home(list(routes)))
    return routes
