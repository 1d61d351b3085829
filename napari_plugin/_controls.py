"""The widget's controls, as magicgui widgets grouped by purpose."""

from __future__ import annotations

import json
from pathlib import Path

from magicgui.widgets import (
    ComboBox,
    Container,
    FileEdit,
    FloatSpinBox,
    Label,
    LineEdit,
    ProgressBar,
    PushButton,
    SpinBox,
)

from napari_plugin._session import BACKENDS, WORKFLOWS
from pycroscopy_curiosity.errors import ParameterError

#: lambda's default per workflow: the acquisition width of the ensemble,
#: the schedule speed of the autoencoder workflow.
LAMBDA_DEFAULTS = {"ensemble": 0.1, "random": 0.1, "autoencoder": 2.0}

H5_FILTER = "NSID-HDF5 (*.h5 *.hdf5)"


def path_text(widget: FileEdit) -> str:
    """A FileEdit's path, or ``''`` when empty."""
    text = str(widget.value)
    return "" if text in ("", ".") else text


def set_path(widget: FileEdit, path: str | Path) -> None:
    """Show ``path`` in a FileEdit."""
    widget.value = Path(path)


class Controls:
    """Every input of the panel; :attr:`groups` lays them out."""

    def __init__(self) -> None:
        self._data()
        self._workflow()
        self._microscope()
        self._run()
        self._operator()
        self._session()

    def _data(self) -> None:
        self.file = FileEdit(
            label="file", mode="r", filter=H5_FILTER, tooltip="NSID-HDF5 file"
        )
        self.spectral = ComboBox(
            label="spectra", choices=[], tooltip="the spectral image to learn"
        )
        self.structure = ComboBox(
            label="structure",
            choices=[],
            tooltip="the structure image: a dataset of the file, an image layer, "
            "or an image made from the spectra",
        )
        self.image_index = SpinBox(
            label="image index",
            min=0,
            max=1_000_000,
            tooltip="spectral index used as the structure image",
            visible=False,
        )
        self.spectral_range = LineEdit(
            label="spectral range",
            tooltip="spectral indices A:B to learn (B excluded); empty: all",
        )
        self.data_box = Container(
            widgets=[
                self.file,
                self.spectral,
                self.structure,
                self.image_index,
                self.spectral_range,
            ]
        )

    def _workflow(self) -> None:
        self.workflow = ComboBox(
            label="workflow",
            choices=WORKFLOWS,
            value="ensemble",
            tooltip="ensemble: Im2spec ensemble with curiosity; autoencoder: "
            "latent-space workflow; random: same surrogate, random points",
        )
        self.direction = ComboBox(
            label="direction",
            choices=("im2spec", "spec2im"),
            tooltip="surrogate direction (autoencoder workflow)",
            visible=False,
        )
        self.beta = FloatSpinBox(
            label="beta",
            min=0.0,
            max=1.0,
            step=0.1,
            value=1.0,
            tooltip="1: curiosity (highest predicted error first); 0: exploitation",
        )
        self.lam = FloatSpinBox(
            label="lambda",
            min=0.001,
            max=1000.0,
            step=0.05,
            value=LAMBDA_DEFAULTS["ensemble"],
            tooltip="ensemble: acquisition width; autoencoder: schedule speed",
        )
        self.sigma = FloatSpinBox(
            label="sigma",
            min=0.0,
            max=100.0,
            step=0.5,
            value=0.0,
            tooltip="weight of the MC-dropout spread (autoencoder workflow)",
            visible=False,
        )
        self.batch = SpinBox(label="batch size", min=1, max=100_000, value=1)
        self.patch = SpinBox(
            label="patch size", min=1, max=1024, value=16, tooltip="pixels"
        )
        self.budget = SpinBox(
            label="budget",
            min=1,
            max=10_000_000,
            value=100,
            tooltip="measurements in all, initial points included",
        )
        self.init = SpinBox(label="initial points", min=1, max=10_000_000, value=20)
        self.seed = SpinBox(label="seed", min=0, max=2**31 - 1, value=0)
        self.device = ComboBox(label="device", choices=("cpu", "auto", "cuda"))
        self.workflow_box = Container(
            widgets=[
                self.workflow,
                self.direction,
                self.beta,
                self.lam,
                self.sigma,
                self.batch,
                self.patch,
                self.budget,
                self.init,
                self.seed,
                self.device,
            ]
        )
        self.workflow.changed.connect(self._workflow_changed)

    def _workflow_changed(self, workflow: str) -> None:
        autoencoder = workflow == "autoencoder"
        self.direction.visible = autoencoder
        self.sigma.visible = autoencoder
        self.beta.visible = workflow == "ensemble"
        self.lam.value = LAMBDA_DEFAULTS[workflow]

    def _microscope(self) -> None:
        self.backend = ComboBox(
            label="microscope",
            choices=BACKENDS,
            tooltip="replay: the opened file as if measured now; remote: a "
            "pycroscopy-curiosity server; aecroscopy: the instrument itself",
        )
        self.address = LineEdit(
            label="address", value="remote://127.0.0.1:9090", visible=False
        )
        self.token_file = FileEdit(label="token file", mode="r", visible=False)
        self.backend_options = LineEdit(
            label="options",
            tooltip='aecroscopy adapter options as JSON, e.g. {"scan_size": '
            '[2e-6, 2e-6], "orientation": "flip_y"}',
            visible=False,
        )
        self.session_file = FileEdit(
            label="session file",
            mode="w",
            filter=H5_FILTER,
            tooltip="journal every measurement into this new file (optional)",
        )
        self.microscope_box = Container(
            widgets=[
                self.backend,
                self.address,
                self.token_file,
                self.backend_options,
                self.session_file,
            ]
        )
        self.backend.changed.connect(self._backend_changed)

    def _backend_changed(self, backend: str) -> None:
        self.address.visible = backend == "remote"
        self.token_file.visible = backend == "remote"
        self.backend_options.visible = backend == "aecroscopy"

    def backend_option_values(self) -> dict:
        """The aecroscopy options typed as JSON (``{}`` when empty).

        Raises
        ------
        ParameterError
            When the text is not a JSON object.
        """
        text = str(self.backend_options.value or "").strip()
        if not text:
            return {}
        try:
            values = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ParameterError(
                f"microscope options must be a JSON object: {exc}"
            ) from exc
        if not isinstance(values, dict):
            raise ParameterError(
                f"microscope options must be a JSON object, got {text!r}"
            )
        return values

    def _run(self) -> None:
        self.start_button = PushButton(text="Start", tooltip="run until the budget")
        self.pause_button = PushButton(text="Pause", tooltip="pause after this step")
        self.step_button = PushButton(text="Step", tooltip="one step")
        self.stop_button = PushButton(
            text="Stop", tooltip="stop after this step and close the session file"
        )
        self.progress = ProgressBar(min=0, max=1, value=0, label="measured")
        self.status = Label(value="choose a file and press Start")
        buttons = Container(
            layout="horizontal",
            labels=False,
            widgets=[
                self.start_button,
                self.pause_button,
                self.step_button,
                self.stop_button,
            ],
        )
        self.run_box = Container(
            labels=False, widgets=[buttons, self.progress, self.status]
        )

    def _operator(self) -> None:
        self.add_button = PushButton(
            text="Add points", tooltip="click on the image to add operator points"
        )
        self.accept_button = PushButton(
            text="Accept candidates",
            tooltip="copy the model's next candidates into the operator points",
        )
        self.send_button = PushButton(
            text="Send to microscope",
            tooltip="measure the operator points (between steps when running)",
        )
        self.operator_box = Container(
            layout="horizontal",
            labels=False,
            widgets=[self.add_button, self.accept_button, self.send_button],
        )

    def _session(self) -> None:
        self.save_button = PushButton(text="Save results…")
        self.resume_button = PushButton(
            text="Resume session…", tooltip="continue a session file"
        )
        self.session_box = Container(
            layout="horizontal",
            labels=False,
            widgets=[self.save_button, self.resume_button],
        )

    @property
    def groups(self) -> list[tuple[str, Container]]:
        """``(title, container)`` in display order."""
        return [
            ("Data", self.data_box),
            ("Workflow", self.workflow_box),
            ("Microscope", self.microscope_box),
            ("Run", self.run_box),
            ("Operator", self.operator_box),
            ("Session", self.session_box),
        ]
