"""What every panel has: an error banner, a status line, progress output, busy handling, chart slots."""

from __future__ import annotations

import contextvars
import functools
import html
import logging
import threading
from collections.abc import Callable
from typing import Any

import ipywidgets as w
import traitlets

from workbench.errors import DataError, WorkbenchError
from workbench.widgets._state import AppState

log = logging.getLogger("workbench.widgets")

_BANNER_STYLE = {
    "error": "background:#ffebe9;border:1px solid #ff8182;color:#82071e",
    "info": "background:#ddf4ff;border:1px solid #54aeff;color:#0a3069",
}


class Banner(w.HTML):
    """A one-sentence message above a panel: red for errors, blue for information, hidden when empty."""

    message = traitlets.Unicode("")
    level = traitlets.Unicode("")

    def show(self, message: str, level: str = "error") -> None:
        """Show `message` at `level` (``"error"`` red, anything else blue)."""
        self.message, self.level = message, level
        style = _BANNER_STYLE.get(level, _BANNER_STYLE["info"])
        self.value = (
            f"<div role='alert' style='{style};border-radius:6px;padding:6px 10px;margin:4px 0'>"
            f"{html.escape(message)}</div>"
        )
        self.layout.display = None

    def error(self, message: str) -> None:
        """Show `message` as an error."""
        self.show(message, "error")

    def info(self, message: str) -> None:
        """Show `message` as information."""
        self.show(message, "info")

    def clear(self) -> None:
        """Hide the banner."""
        self.message, self.level, self.value = "", "", ""
        self.layout.display = "none"


class ChartSlot(w.Box):
    """Holds one plotly chart as a ``go.FigureWidget`` (replaced whole when the result changes).

    `width`/`height` (pixels) give every chart shown here that size, and the
    slot that much room (it neither shrinks below it nor clips it: a row of
    slots wraps instead); `margin` and `legend` override the figure's own, so
    a chart built for a full page fits a panel.
    """

    def __init__(
        self,
        *,
        width: int | None = None,
        height: int | None = None,
        margin: dict | None = None,
        legend: dict | None = None,
        **kwargs: Any,
    ):
        super().__init__(**kwargs)
        self.figure = None
        self.fit: dict[str, Any] = {}
        if width is not None:
            self.fit.update(width=int(width), autosize=False)
            self.layout.width = f"{int(width) + 8}px"
            self.layout.flex = "0 0 auto"  # a flex row must not squeeze (and so clip) the chart
        if height is not None:
            self.fit["height"] = int(height)
        if margin is not None:
            self.fit["margin"] = dict(margin)
        if legend is not None:
            self.fit["legend"] = dict(legend)

    def show(self, fig) -> None:
        """Show `fig` (a plotly Figure or FigureWidget) at the slot's size, replacing the chart shown."""
        import plotly.graph_objects as go

        if not isinstance(fig, go.FigureWidget):
            # The figure was validated when it was built: wrapping it without validating again is ~4x
            # cheaper (it matters for charts redrawn on each click, e.g. a LIME row).
            spec = fig.to_plotly_json()
            layout = {**spec.get("layout", {}), **self.fit}
            fig = go.FigureWidget(data=spec.get("data", []), layout=layout, _validate=False)
        elif self.fit:
            fig.update_layout(**self.fit)
        self.figure = fig
        self.children = (self.figure,)

    def clear(self) -> None:
        """Remove the chart."""
        self.figure = None
        self.children = ()


def fit_labels(root: w.Widget) -> None:
    """Give every label under `root` the room it needs ("LIME samples", not "LIME sam…").

    ipywidgets cuts descriptions at a fixed width (~80 px): labelled inputs get
    ``description_width='initial'`` (as wide as their text), checkboxes a
    width that fits their text.
    """
    stack = [root]
    while stack:
        widget = stack.pop()
        stack.extend(getattr(widget, "children", ()) or ())
        if isinstance(widget, w.Button) or not getattr(widget, "description", ""):
            continue
        style = getattr(widget, "style", None)
        if style is not None and "description_width" in style.keys:
            style.description_width = "initial"
        if isinstance(widget, w.Checkbox):
            widget.layout.width = "auto"


def message_of(exc: BaseException) -> str:
    """The sentence a banner shows for an exception (our own errors as they are, others with their type)."""
    if isinstance(exc, WorkbenchError):
        return str(exc)
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
    return f"Unexpected error ({type(exc).__name__}{': ' + text if text else ''}); details are in the log."


class Panel(w.VBox):
    """Base of the panels: gather input, call the package in :meth:`run`, display the result.

    :meth:`run` disables the panel's buttons while the work runs (in a
    background thread when ``state.run_in_thread``), shows progress bars
    (tqdm) in :attr:`progress`, and turns any exception into the red :attr:`banner`
    (never a traceback). :meth:`wait` blocks until the work is done.
    """

    title = "Panel"

    def __init__(self, state: AppState | None = None, **kwargs: Any):
        super().__init__(**kwargs)
        self.state = state if state is not None else AppState()
        self.banner = Banner()
        self.banner.clear()
        self.status = w.HTML()
        self.progress = w.Output()
        self.busy = False
        self._buttons: list[w.Widget] = []
        self._thread: threading.Thread | None = None

    # -- layout -------------------------------------------------------------------------
    def _compose(self, *body: w.Widget, intro: str = "") -> None:
        head = w.HTML(
            f"<h3 style='margin:4px 0'>{html.escape(self.title)}</h3>"
            + (f"<div style='color:#57606a'>{html.escape(intro)}</div>" if intro else "")
        )
        self.children = (head, self.banner, *body, self.status, self.progress)
        fit_labels(self)

    def _button(
        self, description: str, handler: Callable[[], None], *, style: str = "", tooltip: str = ""
    ) -> w.Button:
        """A button whose click runs `handler` guarded (errors become the banner), disabled while busy."""
        b = w.Button(description=description, button_style=style, tooltip=tooltip or description)
        b.on_click(lambda _b: self._guarded(handler)())
        self._buttons.append(b)
        return b

    # -- inputs --------------------------------------------------------------------------
    def _model_and_data(self, *, held_out: bool = False) -> tuple[Any, Any]:
        """The state's model and data (with `held_out`, its held-out rows when it has them).

        Raises
        ------
        WorkbenchError
            No model yet, or (a ``DataError``) no data: the banner says which to load first.
        """
        st = self.state
        if st.model is None:
            raise WorkbenchError("train or load a model first")
        data = st.validation if held_out and st.validation is not None else st.data
        if data is None:
            raise DataError("load a dataset in the Data panel first")
        return st.model, data

    # -- running work --------------------------------------------------------------------
    def _guarded(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        """`fn` with its exceptions shown in the banner (for callbacks that do not go through run)."""

        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except Exception as exc:  # a callback must never show a traceback
                self._fail(exc)
                return None

        return wrapper

    def _fail(self, exc: BaseException) -> None:
        if not isinstance(exc, WorkbenchError):
            log.exception("%s: unexpected error", type(self).__name__, exc_info=exc)
        self.banner.error(message_of(exc))

    def run(self, label: str, work: Callable[[], Any], done: Callable[[Any], None] | None = None) -> None:
        """Run `work` (then `done(result)`), showing `label` while busy and any error in the banner."""
        if self.busy:
            self.banner.info(f"Still busy ({self.status_text()}); wait for it to finish.")
            return
        self.banner.clear()
        self._set_busy(True, label)

        def job() -> None:
            try:
                failure: Exception | None = None
                with self.progress:  # tqdm.auto bars land in the panel, not in whatever cell ran last
                    try:
                        value = work()
                    except Exception as exc:
                        # caught inside: in a kernel, an Output widget prints an exception leaving it and
                        # swallows it (ipywidgets), so the banner would never learn what went wrong
                        failure = exc
                if failure is not None:
                    raise failure
                if done is not None:
                    done(value)
            except Exception as exc:
                self._fail(exc)
            finally:
                self._set_busy(False)

        if self.state.run_in_thread:
            # the copied context keeps the click's parent message, so output reaches this panel's Output
            ctx = contextvars.copy_context()
            self._thread = threading.Thread(
                target=ctx.run, args=(job,), name=f"workbench-{self.title}", daemon=True
            )
            self._thread.start()
        else:
            job()

    def wait(self, timeout: float | None = None) -> None:
        """Block until the running work (if any) is done."""
        t = self._thread
        if t is not None:
            t.join(timeout)

    def status_text(self) -> str:
        """The status line as plain text (``"Training…"`` while busy, else empty)."""
        return html.unescape(self.status.value.replace("<em>", "").replace("</em>", ""))

    def _set_busy(self, busy: bool, label: str = "") -> None:
        self.busy = busy
        for b in self._buttons:
            b.disabled = busy
        self.status.value = f"<em>{html.escape(label)}…</em>" if busy else ""
