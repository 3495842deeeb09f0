"""Every failure a user can meet, as a named error that says what happened and what to do next.

The CLI prints ``str(error)`` on one line; the message always ends with the way out.
"""

from __future__ import annotations


class AezooError(Exception):
    """Base of aezoo's errors: ``what`` happened, and ``hint`` says what to do next."""

    def __init__(self, what: str, hint: str = "") -> None:
        self.what = what
        self.hint = hint
        super().__init__(f"{what} {hint}".strip())


class ModelNotFoundError(AezooError, LookupError):
    """No installed plugin registers this model name."""


class DuplicateModelError(AezooError):
    """Two distributions register the same model name."""


class DuplicateDatasetError(AezooError):
    """Two distributions register the same data set name."""


class PluginLoadError(AezooError):
    """A plugin's entry point could not be loaded (fatal only in strict mode)."""


class InvalidSpecError(AezooError, ValueError):
    """A model spec, weights manifest or recipe is malformed."""


class InvalidReferenceError(AezooError, ValueError):
    """A model reference is neither a name, a folder nor a valid ``hf://`` reference."""


class CheckpointError(AezooError):
    """A checkpoint folder or file is missing, malformed or unsafe."""


class IncompatibleWeightsError(CheckpointError):
    """The tensors in a checkpoint do not match the model's names, shapes or dtypes."""


class ChecksumMismatchError(AezooError):
    """A weights file's size or sha256 differs from the pinned manifest."""


class WeightsUnavailableError(AezooError):
    """Pretrained weights cannot be had: offline and not cached, hub unreachable, or none published."""


class HubUnreachableError(WeightsUnavailableError):
    """The hub could not be reached: connection refused, no route, DNS or TLS failure."""


class HubTimeoutError(HubUnreachableError):
    """The hub accepted the connection (or none came) but gave no answer within ``AEZOO_HUB_TIMEOUT``."""


class HubHTTPError(WeightsUnavailableError):
    """The hub answered with an HTTP error (a 5xx, a refused request) that is not "no such repo or file"."""


class UntrustedHubError(WeightsUnavailableError):
    """The hub's answer would make aezoo act outside the cache: a content id or commit that is not hex,
    or a file that resolves outside the Hugging Face cache. Nothing was read, written or removed."""


class InvalidSettingError(AezooError, ValueError):
    """An ``AEZOO_*`` environment variable holds a value aezoo cannot use."""


class TaskNotSupportedError(AezooError):
    """The model does not do what was asked (e.g. sampling from a denoiser)."""


class DatasetUnavailableError(AezooError):
    """A data set cannot be had on this machine (needs a download or a file)."""


class TrainingError(AezooError):
    """Training cannot start or go on."""


class NonFiniteLossError(TrainingError):
    """A loss became NaN or infinite; the last good checkpoint is kept."""

    def __init__(self, what: str, hint: str = "", *, step: int = -1) -> None:
        self.step = step
        super().__init__(what, hint)


class TensorBoardUnavailableError(TrainingError):
    """TensorBoard events were asked for, and the tensorboard package is not installed."""


class FIDUnavailableError(AezooError):
    """FID cannot be computed: the FID Inception weights file is missing or is not the right file."""


class UndefinedMetricError(AezooError, ValueError):
    """A metric is undefined for the data given, e.g. ROC AUC with one class present."""


class OutputExistsError(AezooError, FileExistsError):
    """An output path holds a file aezoo did not write (or is a file where a folder is needed); nothing
    was replaced. ``--overwrite`` (``overwrite=True``) lets aezoo replace it."""


class OutputLockedError(AezooError):
    """Another aezoo run holds the output folder's lock; one run at a time writes to a folder."""


class InputIsOutputError(AezooError, ValueError):
    """An output path is one of the inputs, or two inputs would be written to the same output."""


class ResumeMismatchError(TrainingError):
    """The saved training state was made with other settings (learning rate, batch size, seed, recipe
    options, config) than this run's, or with weights of other shapes."""


class InvalidInputError(AezooError, ValueError):
    """Data given to a model's task method (denoise, encode, reconstruct ...) cannot be used:
    the wrong shape, or values that are NaN or infinite."""


class InputTypeError(InvalidInputError, TypeError):
    """Data given to a model's task method is not of a usable type (e.g. not a float tensor)."""


class ImageReadError(DatasetUnavailableError):
    """An image file cannot be decoded: unreadable, of an unsupported mode, or larger than Pillow's
    decompression-bomb limit."""


class CacheNotWritableError(WeightsUnavailableError):
    """A download needs to write the Hugging Face cache (``HF_HUB_CACHE``), and it cannot be written:
    read-only, not a folder, no permission or no space."""


class CSVReadError(DatasetUnavailableError, ValueError):
    """A CSV file cannot be read as a table: empty, ragged rows, binary, not UTF-8 / UTF-16 text, or
    a header with no rows."""


class DataMismatchError(DatasetUnavailableError, ValueError):
    """The data does not fit the model: a table for an image model, images for a table model, or a
    table with another number of columns; found before any step runs."""


class NotEnoughDataError(DatasetUnavailableError, ValueError):
    """The data gives an empty training or held-out split (fewer than five items: every fifth is held
    out), so nothing could be trained or measured."""
