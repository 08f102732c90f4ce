"""What a person sees of a secret a model streams split into tokens, live in JupyterLab.

The tokens reach the page as they come; once the kernel sees the stream's text hold a secret,
it sends those tokens again redacted (the delta's ``retext``) and refreshes the durable
snapshot. While the model still runs (a scripted pause right after the secret), the token pane
must already show ``[redacted]`` and no part of the secret.
"""

from __future__ import annotations

from labdriver import cell_output, record_text, run_notebook, screenshot, wait_cells_done, wait_for

SECRET_PART = "OpenAIProjV4lue0123456789"
SETUP = f"""\
import streamviz as sv
from langchain_core.output_parsers import StrOutputParser
from streamviz.demo import DemoChatModel, tokenize

answer = "Here is the key: sk-proj-{SECRET_PART} and then the rest of the answer."
tokens = tokenize(answer)
after = next(i for i, token in enumerate(tokens) if token.endswith("789")) + 1
assert not any("{SECRET_PART}" in token for token in tokens)  # split across tokens
model = DemoChatModel(
    time_to_first_token=0.2, token_delay=0.03, responses=[answer], pauses={{after: 4.0}}
)
chain = model | StrOutputParser()
"""
WATCH = 'trace = sv.watch(chain, "my settings?", view="tokens")'


def test_a_secret_split_across_tokens_is_redacted_on_the_live_page(page, jupyter_lab):
    jupyter_lab.write_notebook("secret.ipynb", [SETUP, WATCH])
    run_notebook(page, jupyter_lab, "secret.ipynb", wait=False)
    output = cell_output(page, 1)
    wait_for(output, ".sv-root[data-view=tokens]")
    shown = record_text(page, ".sv-tokens .sv-token-list")
    wait_cells_done(page)
    samples = shown.stop()
    screenshot(page, "split-secret-live-tokens", output)
    running = [sample["text"] for sample in samples if sample["running"]]
    # Seen while the model paused after the secret: redacted, with no piece of it joined.
    redacted_live = [text for text in running if "[redacted]" in text]
    assert redacted_live, running[-3:]
    assert SECRET_PART not in redacted_live[-1]
    assert "Here is the key: [redacted]" in redacted_live[-1]
    final = samples[-1]["text"]
    assert "[redacted]" in final and "rest of the answer" in final
    assert not any(SECRET_PART in sample["text"] for sample in samples)  # never joined whole
