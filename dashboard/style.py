"""The dashboard's look in one place: Streamlit's own English UI strings replaced or hidden (CSS), the
phone layout (cards instead of wide tables below PHONE_MAX_PX) and the sidebar that folds away after a
page is picked on a phone. dashboard/app.py calls apply() once per run.

Streamlit has no setting for its interface language, so the few English strings a person meets are
replaced with CSS ``::after`` text (the uploader; a multiselect's "Select all"; an option list's "No
results"), or hidden where the dashboard offers the same in Chinese (table toolbar: every table has its
own 下载 Excel; the ⋮ menu; "Press Enter to submit form").
"""

from __future__ import annotations

import streamlit as st

PHONE_MAX_PX = 640  # Streamlit stacks columns below this width too
WIDE_PREFIX = "wide_"  # st.container(key=...) prefixes: shown on a desk, hidden on a phone ...
PHONE_PREFIX = "phone_"  # ... and the other way round (Streamlit gives keyed containers a st-key-<key> class)
UPLOAD_HINT = "将文件拖放到此处，或点击「选择文件」"
NOTHING_TO_CHOOSE = "没有可选的项（已全部选中，或没有匹配的项）"

CSS = f"""
<style>
/* Streamlit's menu, deploy button and per-element toolbars speak English; the page offers the same in Chinese */
[data-testid="stMainMenu"], [data-testid="stAppDeployButton"], [data-testid="stToolbarActions"],
[data-testid="stElementToolbar"], [data-testid="InputInstructions"] {{ display: none !important; }}

/* The file uploader: "Upload" and "200MB per file • XLSX, CSV" */
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"] p {{ display: none; }}
[data-testid="stFileUploaderDropzone"] button [data-testid="stMarkdownContainer"]::after {{ content: "选择文件"; }}
[data-testid="stFileUploaderDropzoneInstructions"] span {{ display: none; }}
[data-testid="stFileUploaderDropzoneInstructions"] > div::after {{
  content: "{UPLOAD_HINT}"; font-size: 0.875rem; opacity: 0.7;
}}

/* The running indicator ("Running...", "Stop") and the keyboard users' skip link */
[data-testid="stStatusWidget"] label, [data-testid="stStatusWidget"] button {{ display: none; }}
[data-testid="stStatusWidget"] > div::after {{ content: "正在处理……"; font-size: 0.875rem; }}
[data-testid="stSkipToContent"] {{ font-size: 0; }}
[data-testid="stSkipToContent"]::after {{ content: "跳到正文"; font-size: 1rem; }}

/* An option list with nothing (left) to choose says "No results": e.g. a multiselect whose options are all
   chosen, as 选择要签收的任务 starts */
[role="listbox"][data-empty="true"] [role="option"] > span {{ display: none; }}
[role="listbox"][data-empty="true"] [role="option"]::after {{
  content: "{NOTHING_TO_CHOOSE}"; display: block; padding: 0.5rem 1rem; font-size: 0.875rem; opacity: 0.7;
}}

/* A multiselect's list starts with "Select all" (or "Select N matches" while filtering) */
[role="option"][data-key="__select_all__"] > *, [role="option"][data-key="__select_matches__"] > * {{ display: none; }}
[role="option"][data-key="__select_all__"]::after {{ content: "全选"; }}
[role="option"][data-key="__select_matches__"]::after {{ content: "选中全部匹配项"; }}

/* Cards (dashboard.widgets.cards): one per row, readable on a phone */
.cm-cards {{ display: flex; flex-direction: column; gap: 0.5rem; }}
.cm-card {{
  border: 1px solid rgba(49, 51, 63, 0.2); border-left: 6px solid #9e9e9e; border-radius: 0.5rem;
  padding: 0.5rem 0.75rem; line-height: 1.5;
}}
.cm-card .cm-title {{ font-weight: 600; }}
.cm-card .cm-line {{ font-size: 0.9rem; }}
.cm-card .cm-badge {{ float: right; font-size: 0.85rem; font-weight: 600; }}
.cm-card.cm-danger {{ border-left-color: #d32f2f; background: rgba(211, 47, 47, 0.06); }}
.cm-card.cm-warning {{ border-left-color: #f57c00; background: rgba(245, 124, 0, 0.07); }}
.cm-card.cm-success {{ border-left-color: #388e3c; }}
.cm-card.cm-info {{ border-left-color: #1976d2; }}
.cm-bar {{ height: 6px; background: rgba(49, 51, 63, 0.1); border-radius: 3px; margin-top: 0.25rem; }}
.cm-bar > div {{ height: 6px; border-radius: 3px; background: #388e3c; }}

/* Desk and phone: a keyed container shows on one of them only */
[class*="st-key-{PHONE_PREFIX}"] {{ display: none !important; }}
@media (max-width: {PHONE_MAX_PX}px) {{
  [class*="st-key-{WIDE_PREFIX}"] {{ display: none !important; }}
  [class*="st-key-{PHONE_PREFIX}"] {{ display: flex !important; }}
  h1 {{ font-size: 1.6rem !important; }}
  [data-testid="stMetricValue"] {{ font-size: 1.5rem; }}
}}
</style>
"""

# On a phone the open sidebar covers the page: fold it away once a page (or a link in it) is picked.
# One listener per browser tab, registered the first time this runs.
FOLD_SIDEBAR_JS = f"""
<script>
if (!window.__cmFoldSidebar) {{
  window.__cmFoldSidebar = true;
  document.addEventListener("click", (event) => {{
    const link = event.target.closest('[data-testid="stSidebar"] a');
    if (!link || !window.matchMedia("(max-width: {PHONE_MAX_PX}px)").matches) return;
    setTimeout(() => {{
      const fold = document.querySelector('[data-testid="stSidebarCollapseButton"] button');
      if (fold) fold.click();
    }}, 150);
  }}, true);
}}
</script>
"""


def apply() -> None:
    """The stylesheet and the sidebar folding, on every page (login included)."""
    st.html(CSS)  # only a <style>: Streamlit puts it where it takes no space
    st.html(FOLD_SIDEBAR_JS, unsafe_allow_javascript=True)
