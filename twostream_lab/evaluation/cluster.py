"""On the machine that runs the evaluation: the Dask client or local cluster, and the loop that
submits one task per video and stores each result as it comes back."""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import Any

from twostream_lab.evaluation.store import EvaluationError, _Log, _Plan, _store
from twostream_lab.evaluation.tasks import _evaluate_task
from twostream_lab.evaluation.videos import VideoItem
from twostream_lab.flow.parallel import available_cores


def _distributed():
    """The ``distributed`` module, or an ImportError that says how to install it."""
    try:
        import distributed
    except ImportError as exc:
        raise ImportError(
            f"evaluating a dataset needs Dask distributed, which is not importable here ({exc}); "
            "install it with pip install 'twostream-lab[evaluate]' (or pip install "
            "'dask[distributed]')") from exc
    return distributed


@contextmanager
def _connect(scheduler, workers: int, connect_timeout: float) -> Iterator[tuple[Any, str]]:
    """A Dask client: on ``scheduler`` (an address or a Client), else on a new LocalCluster."""
    distributed = _distributed()

    if isinstance(scheduler, distributed.Client):
        yield scheduler, f"the cluster of {scheduler.scheduler.address}"
        return
    if scheduler is not None:
        try:
            client = distributed.Client(scheduler, timeout=connect_timeout,
                                        set_as_default=False)
        except (OSError, TimeoutError, ValueError) as exc:
            raise EvaluationError(
                f"cannot reach the Dask scheduler at {scheduler!r} within {connect_timeout:g} s "
                f"({exc}). Start one with `dask scheduler` and workers with `dask worker "
                f"ADDRESS`, pass the address it prints (tcp://HOST:8786), or leave out "
                "--scheduler to run on this machine") from exc
        with client:
            try:
                client.wait_for_workers(1, timeout=connect_timeout)
            except TimeoutError:
                raise EvaluationError(
                    f"the Dask scheduler at {scheduler!r} has no worker (waited "
                    f"{connect_timeout:g} s): start some with `dask worker {scheduler}` on "
                    "machines that have twostream-lab, the weights and the videos") from None
            yield client, f"the cluster of {scheduler}"
        return
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  host="127.0.0.1", dashboard_address=None,
                                  silence_logs=logging.ERROR) as cluster, \
            distributed.Client(cluster, set_as_default=False) as client:
        yield client, f"{workers} local worker process{'es' if workers != 1 else ''}"


def _run_tasks(todo: dict[str, list[str]], items: dict[str, VideoItem],
               plans: dict[str, _Plan], weights: Mapping[str, Any], *, sampling, batch_size: int,
               scheduler, workers: int, connect_timeout: float, progress: bool,
               write_log: _Log) -> tuple[dict[str, dict[str, str]], list[float], int, str]:
    """Evaluate ``todo`` (video id -> flow methods) on the cluster, storing each result.

    Returns the failures that are not stored (a worker died), the compute seconds of each video,
    the pairs scored, and the cluster's description.
    """
    from twostream_lab.progress import progress_bar

    distributed = _distributed()
    transient: dict[str, dict[str, str]] = {m: {} for m in plans}
    seconds: list[float] = []
    pairs = 0
    if progress and scheduler is None:
        print(f"starting {workers} local Dask worker process(es) on 127.0.0.1 ...",
              file=sys.stderr)
    threads = max(1, available_cores() // workers) if scheduler is None else None
    with _connect(scheduler, workers, connect_timeout) as (client, where):
        write_log(f"cluster: {where}")
        futures = {client.submit(_evaluate_task, str(items[vid].path), methods, dict(weights),
                                 sampling, batch_size, threads, pure=False): vid
                   for vid, methods in todo.items()}
        start = time.perf_counter()
        bar = progress_bar(total=len(futures), desc="evaluate", unit="video", enabled=progress)
        failed = 0
        try:
            for future in distributed.as_completed(futures, loop=client.loop):
                vid = futures[future]
                try:
                    answer = future.result()
                except distributed.KilledWorker as exc:
                    for method in todo[vid]:
                        transient[method][vid] = (f"the worker running it died ({exc}); it is "
                                                  "evaluated again by the next run")
                    failed += 1
                    write_log(f"{vid}: worker died")
                    bar.update()
                    continue
                except EvaluationError:
                    raise
                except Exception as exc:
                    raise EvaluationError(
                        f"{items[vid].path}: the task failed on a worker: {exc!r}. A worker "
                        "needs twostream-lab (the same version), the weights and the videos at "
                        "the same paths") from exc
                for method, result in answer["results"].items():
                    _store(plans[method].folder, items[vid], plans[method].settings,
                           plans[method].settings_id, result, answer)
                    if result["status"] == "ok":
                        pairs += result["pairs"]
                    else:
                        failed += 1
                ok = [r for r in answer["results"].values() if r["status"] == "ok"]
                compute = sum(sum(r["seconds"].values()) for r in ok)
                if ok:
                    seconds.append(compute)
                write_log(f"{vid}: " + ", ".join(
                    f"{m} {r['status']}" for m, r in answer["results"].items())
                    + f" on {answer['worker']} in {compute:.2f} s"
                    + (f" (+{answer['load_seconds']:.1f} s loading the models)"
                       if answer["load_seconds"] else ""))
                elapsed = time.perf_counter() - start
                bar.set_postfix_str(f"{pairs / max(elapsed, 1e-9):.1f} pairs/s, {failed} failed",
                                    refresh=False)
                bar.update()
        finally:
            bar.close()
            client.cancel(list(futures))
    return transient, seconds, pairs, where
