"""Export the converted e5 folder (ingest.e5_convert) to ONNX, for onnxruntime.

The export is a set-up step, run once after the conversion and again whenever
its input changes (`ensure_exported`). It runs in a child process
(`python -m ingest.e5_onnx SRC WORK`), so that neither ingest nor a service
that repairs its model folder ever imports torch itself; the child loads the
folder's BertModel with transformers and traces it with torch.onnx.export
(TorchScript exporter, opset 17, dynamic batch and sequence axes; the
torch.export-based exporter would need onnxscript). The folder it writes,
`<models>/multilingual-e5-small-onnx/`:

- `model.onnx` + `model.onnx.data`: the graph (input_ids, attention_mask,
  token_type_ids -> last_hidden_state) and its weights as external data, each
  tensor at a 64 KiB-aligned offset so that onnxruntime maps it from the file
  instead of copying it: the 384 MB word-embedding matrix is only read where
  a question's tokens are (a session holds ~100 MB instead of ~520 MB);
- `tokenizer.json`: the converted folder's, byte for byte (same token ids);
- `embedder.json`: what sentence-transformers does around the model, read
  from the converted folder's configuration: the prompts, truncation at 512
  tokens, the padding id, mean pooling over every token including the
  prompt's, L2 normalisation;
- `CHECKSUMS.json`: exporter version, opset, the sha256 of the input folder's
  manifest, the torch and onnx versions, and the sha256 of every file.

The export is deterministic: the same input gives the same bytes.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import warnings
from pathlib import Path
from typing import Any

from ingest.e5_writer import (
    MANIFEST,
    build_folder,
    files_match,
    json_bytes,
    locked,
    read_manifest,
    sha256_file,
    write_bytes,
    write_manifest,
)

# Bumped whenever the output changes for the same input.
EXPORTER_VERSION = 1
QUANTIZER_VERSION = 1
OPSET = 17
GRAPH = "model.onnx"
WEIGHTS = GRAPH + ".data"
CONFIG = "embedder.json"
TOKENIZER = "tokenizer.json"
REQUIRED_FILES = (GRAPH, WEIGHTS, TOKENIZER, CONFIG)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
OUTPUT = "last_hidden_state"
ALIGNMENT = 1 << 16  # onnxruntime maps external data whose offset is a multiple of this
EXPORT_TIMEOUT_S = 1800
PROJECT_ROOT = Path(__file__).resolve().parents[1]


class ExportError(RuntimeError):
    """The export child process failed; the message ends with its output."""


def input_digest(src: Path) -> str:
    """What an export is derived from: the converted folder's manifest (which
    holds the sha256 of every one of its files)."""
    return sha256_file(src / MANIFEST)


def embedder_config(src: Path) -> dict[str, Any]:
    """What sentence-transformers does around the converted folder's BertModel,
    from that folder's own configuration; anything else than mean pooling with
    the prompt included and a final Normalize is refused, as the runtime
    (ingest.embedders.OnnxE5Embedder) implements only that."""
    modules = [m["type"].rsplit(".", 1)[-1] for m in json.loads((src / "modules.json").read_text("utf-8"))]
    pooling = json.loads((src / "1_Pooling" / "config.json").read_text("utf-8"))
    modes = sorted(k for k, v in pooling.items() if k.startswith("pooling_mode_") and v)
    if modules != ["Transformer", "Pooling", "Normalize"] or modes != ["pooling_mode_mean_tokens"]:
        raise ValueError(f"{src}: only Transformer -> mean Pooling -> Normalize is exported, got {modules} {modes}")
    if not pooling.get("include_prompt", True):
        raise ValueError(f"{src}: pooling without the prompt tokens is not supported")
    bert = json.loads((src / "config.json").read_text("utf-8"))
    st = json.loads((src / "sentence_bert_config.json").read_text("utf-8"))
    prompts = json.loads((src / "config_sentence_transformers.json").read_text("utf-8"))["prompts"]
    return {
        "prompts": prompts,
        "max_seq_length": st["max_seq_length"],
        "pad_token_id": bert["pad_token_id"],
        "dimension": pooling["word_embedding_dimension"],
        "pooling": "mean over every token, the prompt's included, weighted by attention_mask",
        "normalize": True,
        "inputs": list(INPUTS),
        "output": OUTPUT,
    }


def verify_export(dest: Path, src: Path) -> bool:
    """True when `dest` holds a complete export, by this exporter version, of
    the folder `src` as it is now, every file matching its recorded sha256."""
    manifest = read_manifest(dest)
    try:
        if manifest is None or manifest.get("exporter_version") != EXPORTER_VERSION:
            return False
        if manifest.get("opset") != OPSET or manifest["input"]["manifest_sha256"] != input_digest(src):
            return False
        return files_match(dest, manifest, REQUIRED_FILES)
    except (OSError, KeyError, TypeError):
        return False


def ensure_exported(src: Path, dest: Path) -> Path:
    """Return `dest`, exporting `src` (a verified conversion) into it first
    unless it already holds a verified export of it."""
    dest = Path(dest).absolute()
    if verify_export(dest, src):
        return dest
    with locked(dest):
        if verify_export(dest, src):  # another process may have exported meanwhile
            return dest
        return build_folder(dest, lambda work: _export_in_child(Path(src).absolute(), work))


def _export_in_child(src: Path, work: Path) -> None:
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    env["PYTHONPATH"] = os.pathsep.join(x for x in (str(PROJECT_ROOT), env.get("PYTHONPATH")) if x)
    done = subprocess.run(
        [sys.executable, "-m", "ingest.e5_onnx", str(src), str(work)],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=EXPORT_TIMEOUT_S,
    )
    if done.returncode != 0 or not (work / MANIFEST).exists():
        tail = "\n".join((done.stdout + done.stderr).strip().splitlines()[-15:])
        raise ExportError(f"exporting {src} to ONNX failed (exit {done.returncode}):\n{tail}")


# --- int8 (SIQA_E5_BACKEND=onnx-int8) ------------------------------------------


def verify_quantized(dest: Path, src: Path) -> bool:
    """As verify_export, for the int8 folder made from the fp32 export `src`."""
    manifest = read_manifest(dest)
    try:
        if manifest is None or manifest.get("quantizer_version") != QUANTIZER_VERSION:
            return False
        if manifest["input"]["manifest_sha256"] != input_digest(src):
            return False
        return files_match(dest, manifest, REQUIRED_FILES)
    except (OSError, KeyError, TypeError):
        return False


def ensure_quantized(src: Path, dest: Path) -> Path:
    """Return `dest`, quantising the fp32 export `src` into it first unless it
    already holds a verified quantisation of it: onnxruntime's dynamic int8
    quantisation of every MatMul (weights int8 per tensor, activations
    quantised at run time); the word embeddings stay fp32."""
    dest = Path(dest).absolute()
    if verify_quantized(dest, src):
        return dest
    with locked(dest):
        if verify_quantized(dest, src):
            return dest
        return build_folder(dest, lambda work: _quantize(Path(src).absolute(), work))


def _quantize(src: Path, out: Path) -> None:
    import onnx
    import onnxruntime
    from onnxruntime.quantization import QuantType, quantize_dynamic

    staged = out / "staged"
    staged.mkdir()
    quantize_dynamic(
        model_input=str(src / GRAPH), model_output=str(staged / GRAPH), weight_type=QuantType.QInt8,
        op_types_to_quantize=["MatMul"], use_external_data_format=True,
    )
    graph = onnx.load(str(staged / GRAPH))
    _externalise_aligned(graph, out / WEIGHTS)
    onnx.save_model(graph, str(out / GRAPH))
    del graph
    for stale in staged.iterdir():
        stale.unlink()
    staged.rmdir()
    for name in (TOKENIZER, CONFIG):
        write_bytes(out / name, (src / name).read_bytes())
    write_manifest(out, {
        "quantizer_version": QUANTIZER_VERSION,
        "method": "onnxruntime.quantization.quantize_dynamic, MatMul, QInt8",
        "input": {"folder": src.name, "manifest_sha256": input_digest(src)},
        "onnxruntime": onnxruntime.__version__,
    })


# --- in the child process ------------------------------------------------------


def export_folder(src: Path, out: Path) -> None:
    """Write the export of `src` into the empty folder `out` (imports torch)."""
    import onnx
    import torch
    from transformers import BertModel

    config = embedder_config(src)
    model = BertModel.from_pretrained(str(src), add_pooling_layer=False, attn_implementation="eager").eval()

    class LastHiddenState(torch.nn.Module):
        def __init__(self, bert: torch.nn.Module) -> None:
            super().__init__()
            self.bert = bert

        def forward(self, input_ids, attention_mask, token_type_ids):  # type: ignore[no-untyped-def]
            return self.bert(
                input_ids=input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids
            ).last_hidden_state

    # Two rows, one padded: the traced graph must not specialise to a batch or length.
    ids = torch.tensor([[0, 6, 7, 8, 2], [0, 6, 7, 2, config["pad_token_id"]]])
    mask = (torch.arange(ids.shape[1]) < torch.tensor([[5], [4]])).long()
    traced = out / "traced.onnx"
    axes = {name: {0: "batch", 1: "sequence"} for name in (*INPUTS, OUTPUT)}
    with torch.no_grad(), warnings.catch_warnings():
        # The exporter's deprecation notice, and a trace-time branch on the mask
        # length that is constant for an encoder (the key length is the mask's).
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHiddenState(model), (ids, mask, torch.zeros_like(ids)), str(traced), dynamo=False,
            opset_version=OPSET, input_names=list(INPUTS), output_names=[OUTPUT], dynamic_axes=axes,
            do_constant_folding=True,
        )
    del model
    graph = onnx.load(str(traced))
    traced.unlink()
    _externalise_aligned(graph, out / WEIGHTS)
    onnx.save_model(graph, str(out / GRAPH))
    write_bytes(out / TOKENIZER, (src / TOKENIZER).read_bytes())
    write_bytes(out / CONFIG, json_bytes(config))
    write_manifest(out, {
        "exporter_version": EXPORTER_VERSION,
        "opset": OPSET,
        "input": {"folder": src.name, "manifest_sha256": input_digest(src)},
        "torch": torch.__version__,
        "onnx": onnx.__version__,
    })


def _externalise_aligned(graph: Any, path: Path) -> None:
    """Move every initializer of 1 KiB or more into `path`, each at an aligned offset."""
    from onnx import TensorProto
    from onnx.external_data_helper import set_external_data

    with path.open("wb") as data:
        for tensor in graph.graph.initializer:
            if len(tensor.raw_data) < 1024:
                continue
            data.write(b"\0" * (-data.tell() % ALIGNMENT))
            offset = data.tell()
            data.write(tensor.raw_data)
            set_external_data(tensor, path.name, offset, len(tensor.raw_data))
            tensor.ClearField("raw_data")
            tensor.data_location = TensorProto.EXTERNAL
        data.flush()
        os.fsync(data.fileno())


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python -m ingest.e5_onnx CONVERTED_FOLDER EMPTY_OUTPUT_FOLDER")
    export_folder(Path(sys.argv[1]), Path(sys.argv[2]))
