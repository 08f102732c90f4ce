"""A tiny in-memory keyword retriever for the offline retrieval-chain demo."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Iterable, Sequence
from typing import Any

from langchain_core.callbacks import (
    AsyncCallbackManagerForRetrieverRun,
    CallbackManagerForRetrieverRun,
)
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever
from pydantic import Field

# Words too common to say anything about relevance.
_COMMON = """
a an and are as at be by did do does for from had has have he her his how i in is it its
me my of on or she so that the their them they this to was we were what when where which
who why will with you your
"""
_STOP_WORDS = frozenset(_COMMON.split())
_WORD = re.compile(r"\w+")


def _terms(text: str) -> set[str]:
    return {word for word in _WORD.findall(text.lower()) if word not in _STOP_WORDS}


class DemoRetriever(BaseRetriever):
    """Keyword-overlap retriever over a handful of in-memory documents.

    A document's score is the number of distinct lower-cased words it shares
    with the query, common stop words excluded.  Documents scoring above zero
    are returned best first, ties keeping their original order; a query that
    matches nothing returns an empty list.

    Parameters
    ----------
    documents : list of Document
        The searchable documents.
    k : int, default 4
        Maximum number of documents returned.
    latency : float, default 0.0
        Seconds to wait before answering, to mimic a vector store round trip.

    Examples
    --------
    >>> retriever = DemoRetriever.from_texts(
    ...     ["harrison worked at kensho", "harrison likes spicy food"]
    ... )
    >>> [d.page_content for d in retriever.invoke("where did harrison work?")]
    ['harrison worked at kensho', 'harrison likes spicy food']

    """

    documents: list[Document] = Field(default_factory=list)
    k: int = Field(default=4, ge=1)
    latency: float = Field(default=0.0, ge=0)

    @classmethod
    def from_texts(
        cls,
        texts: Iterable[str],
        metadatas: Sequence[dict[str, Any]] | None = None,
        *,
        k: int = 4,
        latency: float = 0.0,
        **kwargs: Any,
    ) -> DemoRetriever:
        """Build a retriever from plain strings.

        Parameters
        ----------
        texts : iterable of str
            Page contents, one document each.
        metadatas : sequence of dict, optional
            Metadata for each text, in the same order.
        k : int, default 4
            Maximum number of documents returned.
        latency : float, default 0.0
            Seconds to wait before answering.
        **kwargs
            Other retriever fields, such as ``tags`` or ``metadata``.

        Returns
        -------
        DemoRetriever
            The new retriever.

        """
        texts = list(texts)
        metadatas = list(metadatas) if metadatas is not None else [{} for _ in texts]
        if len(metadatas) != len(texts):
            msg = f"got {len(texts)} texts but {len(metadatas)} metadatas"
            raise ValueError(msg)
        documents = [
            Document(page_content=t, metadata=dict(m))
            for t, m in zip(texts, metadatas, strict=True)
        ]
        return cls(documents=documents, k=k, latency=latency, **kwargs)

    def _rank(self, query: str) -> list[Document]:
        wanted = _terms(query)
        scores = [len(wanted & _terms(doc.page_content)) for doc in self.documents]
        # Best score first; sorted() is stable, so ties keep the original order.
        hits = [i for i, score in enumerate(scores) if score > 0]
        ranked = sorted(hits, key=lambda i: -scores[i])
        return [self.documents[i] for i in ranked[: self.k]]

    def _get_relevant_documents(
        self, query: str, *, run_manager: CallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.latency:
            time.sleep(self.latency)
        return self._rank(query)

    async def _aget_relevant_documents(
        self, query: str, *, run_manager: AsyncCallbackManagerForRetrieverRun
    ) -> list[Document]:
        if self.latency:
            await asyncio.sleep(self.latency)
        return self._rank(query)
