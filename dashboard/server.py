"""The dashboard's server: Streamlit's app (dashboard/app.py) plus the dashboard's own routes
(dashboard/routes.py: the session cookie and single-use downloads), one process.

`streamlit run dashboard/server.py` finds `app` below and serves it with Streamlit's own server
(dashboard/launcher.py does that, with our settings).
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402
from streamlit.runtime.pages_manager import PagesManager  # noqa: E402

from dashboard.routes import ROUTES  # noqa: E402

# app.py builds the navigation (st.navigation) on every run. Streamlit would otherwise treat the
# dashboard/pages/ folder beside it as an old-style pages directory until the first st.navigation
# call in the process, and run a bookmarked page's script directly, without the login gate.
PagesManager.uses_pages_directory = False

app = st.App(Path(__file__).resolve().parent / "app.py", routes=ROUTES)
