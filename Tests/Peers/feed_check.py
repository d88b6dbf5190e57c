"""Reads an Atom feed the way feed readers and alert aggregators do, with feedparser.

Usage: python3 feed_check.py FILE   (feedparser from PyPI)

Prints one JSON object: whether feedparser found the feed well-formed (bozo), the feed's id,
updated time and self link, and for each entry its id, title, updated time, links and
categories. Exits 1 if the feed was not well-formed.
"""
import json
import sys

import feedparser


def main(path):
    with open(path, "rb") as handle:
        parsed = feedparser.parse(handle.read())
    feed = parsed.feed
    result = {
        "bozo": bool(parsed.bozo),
        "error": str(parsed.get("bozo_exception", "")),
        "id": feed.get("id"),
        "updated": feed.get("updated"),
        "self": next((link.get("href") for link in feed.get("links", []) if link.get("rel") == "self"), None),
        "entries": [
            {
                "id": entry.get("id"),
                "title": entry.get("title"),
                "updated": entry.get("updated"),
                "links": [
                    {"rel": link.get("rel"), "type": link.get("type"), "href": link.get("href")}
                    for link in entry.get("links", [])
                ],
                "tags": [{"scheme": tag.get("scheme"), "term": tag.get("term")} for tag in entry.get("tags", [])],
                "languages": [content.get("language") for content in entry.get("content", [])],
            }
            for entry in parsed.entries
        ],
    }
    print(json.dumps(result, ensure_ascii=False))
    return 1 if parsed.bozo else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1]))
