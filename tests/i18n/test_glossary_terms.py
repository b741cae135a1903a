"""The Chinese catalog uses the glossary's words: a msgid naming a glossary term in English has a
msgstr with that term's Chinese.

docs/glossary.md's tables are read as they are (English | 中文 | Notes): "a / b" in a cell gives
alternatives, a parenthesis is a note and not part of the word. A msgid is matched on whole words,
longest term first, so "store manager" is checked as the role (店长) and not as "store" (门店).
Placeholders, markup, code in backticks and URL paths are not words of the sentence and are left
out before matching. The compiled catalog (django.mo) is what is checked: it is what Django shows.

A word with several senses that the glossary tells apart only in its notes is not checked here
(SKIPPED_TERMS); the glossary's own wording for a sense that is not the term itself is accepted
(OTHER_FORMS); and a single msgid where the term is right to be absent is in ALLOWED, each with
its reason. A new exception needs a reason a reviewer would accept."""

import gettext
import re
from pathlib import Path

from django.conf import settings

GLOSSARY = Path(settings.BASE_DIR) / "docs" / "glossary.md"
CATALOG = Path(settings.LOCALE_PATHS[0]) / "zh_Hans" / "LC_MESSAGES" / "django.mo"

# Words whose senses the glossary separates in its notes only; a regex cannot tell them apart.
SKIPPED_TERMS = {
    "open": "also the verb: open a door 开门, open a compartment 打开格口, open a shift 开班, opening hours",
    "done": "also 'what was done about it' (处理方式) and the time a task was done (完成时间)",
    "collect": "money (收款) and parcels (取件) share the word; the glossary gives both senses",
    "collection": "money (收款) and parcels (取件) share the word; the glossary gives both senses",
    "collected": "money (已收款) and parcels (已取件) share the word; pgettext('money') separates the labels",
    "order": "also a sort order (排序) and the verb (the solver orders the stops)",
    "stop": "also the verb: a revoked key stops working (失效)",
}

# The glossary's own words for a sense of the term, accepted besides the term's Chinese.
OTHER_FORMS = {
    "partner": ("分润方",),  # a revenue partner: on finance pages a bare "partner" is this one
    "shift": ("开班", "交班", "当班"),  # the glossary's verbs: open a shift 开班, close a shift 交班
    "rental": ("租金", "租期", "续租"),  # the rent itself, the rental period, extending a rental
    "online": ("上线",),  # a device coming online is the event 上线
}

# (term, msgid): the term is right to be absent from this msgstr.
ALLOWED = {
    ("site", "Site owner"): "a kind of revenue partner: the glossary's 场地方",
    ("fleet", "Accuracy of the fleet"): "all the machines together (全部设备), not the menu section",
    ("store", "Store owner"): "a kind of revenue partner: 店主, the owner of a shop",
    ("store", "What a customer pays in the app to book a compartment of this size to send or store a parcel."): (
        "the verb to store (存放), not a store"
    ),
    ("online", "Online payouts are confirmed by the provider, not by hand."): "paid through the provider: 线上打款",
    ("online", "Online shop"): "an e-commerce shop: 网店",
    ("online", "For an order bought online"): "bought on the internet: 网上购买",
    ("online", "The online shop's order number."): "an e-commerce shop: 网店",
    ("partner", "Partners' shares %(day)s"): "a journal line: 分润 is the partners' share itself",
    ("balance", "Voucher of %(day)s does not balance."): "the verb: debits and credits differ (借贷不平)",
    ("balance", "WeChat Pay balance"): "WeChat's own name for its balance: 微信零钱",
    ("app", "This code is not valid. Use the current code from your app."): (
        "a staff member's authenticator app (身份验证器应用), not the customer's App"
    ),
    ("verify", "Verify"): "checking a sign-in code (验证), not redeeming a pickup code (核销)",
    (
        "fee",
        "This is not a Stripe balance transactions export: a CSV naming id, Amount, Fee and Net, or the API's JSON list.",
    ): ("Fee is a column name in Stripe's file and stays as it is"),
    ("fee", "Whether the recipient pays the bank's fee for goods left past the free hours."): (
        "the locker's overdue fee (超时费), not a provider's fee"
    ),
    ("fee", "Storage fee per started day after that"): "the locker's storage fee (存放费) per day",
}

PLACEHOLDER = re.compile(
    r"%\(\w+\)[-#0 +]*\d*(?:\.\d+)?[sdifr]"  # %(name)s, %(km).1f
    r"|%[sdif%]"
    r"|\{\w*\}"  # {name}
    r"|<[^>]+>|&\w+;"  # markup
    r"|`[^`]*`"  # code
    r"|'\w+'"  # a quoted literal: 'Partner'
    r"|/[\w/.-]+/"  # a URL path: /partner/me/
)


def glossary_terms(text: str) -> list[tuple[str, tuple[str, ...]]]:
    """(English term, Chinese alternatives) for every table row with Chinese, longest term first."""
    terms = []
    for line in text.splitlines():
        if not line.startswith("|") or set(line) <= set("|- "):
            continue
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) < 2 or cells[0] == "English" or not cells[1]:
            continue
        chinese = tuple(
            word for word in (re.sub(r"（.*?）|\(.*?\)", "", alt).strip() for alt in cells[1].split(" / ")) if word
        )
        for alt in cells[0].split(" / "):
            english = re.sub(r"\(.*?\)", "", alt).strip().lower()
            if english:
                terms.append((english, chinese))
    return sorted(terms, key=lambda term: -len(term[0]))


def catalog_entries(path: Path) -> list[tuple[str | None, str, str]]:
    """(msgctxt, msgid, msgstr) of every translated message of a compiled catalog."""
    with path.open("rb") as fh:
        translations = gettext.GNUTranslations(fh)
    entries = []
    for key, msgstr in translations._catalog.items():
        if isinstance(key, tuple):  # a plural form: (msgid, n)
            msgid = key[0]
        else:
            msgid = key
        if not msgid or not msgstr:
            continue  # the header
        context, _sep, msgid = msgid.rpartition("\x04")
        entries.append((context or None, msgid, msgstr))
    return entries


def term_pattern(term: str) -> re.Pattern:
    words = r"[\s-]+".join(re.escape(word) for word in term.split())
    return re.compile(rf"(?<![\w-]){words}(?:s|es)?(?![\w-])", re.IGNORECASE)


def mismatches(terms, entries) -> list[tuple[str, str | None, str, str]]:
    patterns = [(term, chinese, term_pattern(term)) for term, chinese in terms]
    found = []
    for context, msgid, msgstr in entries:
        text = PLACEHOLDER.sub(" ", msgid)
        for term, chinese, pattern in patterns:
            hit = pattern.search(text)
            if not hit:
                continue
            # A longer term took these words: "store manager" is not also "store".
            text = pattern.sub(lambda match: "\0" * len(match.group()), text)
            if term in SKIPPED_TERMS or (term, msgid) in ALLOWED:
                continue
            accepted = chinese + OTHER_FORMS.get(term, ())
            if not any(word in msgstr for word in accepted):
                found.append((term, context, msgid, msgstr))
    return found


def test_glossary_table_is_read():
    terms = dict(glossary_terms(GLOSSARY.read_text(encoding="utf-8")))
    assert terms["slot"] == ("货道",)
    assert terms["store manager"] == ("店长",)
    assert terms["online"] == ("在线", "离线")
    assert "pick list" in terms and "profit sharing" in terms and "redeem" in terms


def test_exceptions_name_terms_of_the_glossary():
    terms = dict(glossary_terms(GLOSSARY.read_text(encoding="utf-8")))
    stale = [term for term in [*SKIPPED_TERMS, *OTHER_FORMS, *(term for term, _msgid in ALLOWED)] if term not in terms]
    assert not stale, f"exceptions for words the glossary no longer has: {stale}"


def test_allowed_msgids_are_still_in_the_catalog():
    msgids = {msgid for _context, msgid, _msgstr in catalog_entries(CATALOG)}
    gone = [msgid for _term, msgid in ALLOWED if msgid not in msgids]
    assert not gone, f"allow-list entries for messages no longer in the catalog: {gone}"


def test_a_wrong_term_is_caught():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    caught = mismatches(terms, [(None, "Slots running low", "库存不足的槽位"), (None, "Store manager", "门店经理")])
    assert [term for term, *_rest in caught] == ["slot", "store manager"]
    assert not mismatches(terms, [(None, "Only %(left)s left at %(site)s.", "%(site)s 只剩 %(left)s。")])


def test_catalog_uses_the_glossary_terms():
    terms = glossary_terms(GLOSSARY.read_text(encoding="utf-8"))
    found = mismatches(terms, catalog_entries(CATALOG))
    report = "\n".join(
        f"  {term!r}: {('[' + context + '] ') if context else ''}{msgid!r} -> {msgstr!r}"
        for term, context, msgid, msgstr in found
    )
    assert not found, f"{len(found)} translations do not use the glossary's term:\n{report}"
