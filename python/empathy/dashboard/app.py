"""The dashboard's Streamlit entry point: `empathy dashboard` (or `make dashboard`) runs it.

Reads the published database only (EMPATHY_PUBLISHED, default .empathy/published/empathy.duckdb), read-only, one
connection per page view: it never opens the working database and never blocks a build.
"""

from __future__ import annotations

from collections.abc import Callable
from types import ModuleType

import streamlit as st

from empathy.config import load_settings
from empathy.dashboard import PAGES
from empathy.dashboard.data import publication, published
from empathy.query import QueryError


def _page(module: ModuleType, path, default: bool = False) -> st.Page:
    slug = module.__name__.rpartition(".")[2]

    def draw() -> None:
        try:
            with published(path) as con:
                about = publication(con)
                if about:
                    st.sidebar.caption(f"Published {about['published_at']:%Y-%m-%d %H:%M} UTC, run `{about['run_id']}`")
                module.render(con)
        except QueryError as exc:
            st.error(str(exc))

    draw.__name__ = slug
    return st.Page(draw, title=module.TITLE, url_path=slug, default=default)


def main(pages: list[ModuleType] | None = None, settings_loader: Callable = load_settings) -> None:
    st.set_page_config(page_title="Empathy warehouse", layout="wide")
    path = settings_loader().published
    modules = pages or PAGES
    st.navigation([_page(m, path, default=i == 0) for i, m in enumerate(modules)]).run()


if __name__ == "__main__":  # `streamlit run` runs the file as __main__
    main()
