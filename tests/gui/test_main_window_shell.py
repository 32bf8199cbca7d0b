"""The main window's frame: areas and shortcuts, window state remembered, settings, messages."""

from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtGui import QPalette
from PySide6.QtWidgets import QApplication, QLabel
from pytestqt.qtbot import QtBot

from studio.services.messages import Level, UserMessage
from studio.ui.main_window import MainWindow
from studio.ui.pages.settings import SettingsPage
from studio.ui.theme import Scheme, apply_theme, colors


def _settings(tmp_path: Path) -> QSettings:
    return QSettings(str(tmp_path / "studio.ini"), QSettings.Format.IniFormat)


def test_areas_switch_with_ctrl_number_and_the_wizard_with_ctrl_n(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(_settings(tmp_path))
    qtbot.addWidget(window)
    window.add_area("Tables", QLabel("tables page"))
    window.add_area("Settings", QLabel("settings page"))
    window.show()
    window.windowHandle().requestActivate()
    qtbot.waitUntil(lambda: QApplication.activeWindow() is window, timeout=3000)
    qtbot.keyClick(window, Qt.Key.Key_3, Qt.KeyboardModifier.ControlModifier)
    assert window.areas.tabText(window.areas.currentIndex()) == "Settings"
    qtbot.keyClick(window, Qt.Key.Key_1, Qt.KeyboardModifier.ControlModifier)
    assert window.areas.tabText(window.areas.currentIndex()) == "Overview"
    with qtbot.waitSignal(window.wizard_requested, timeout=2000):
        qtbot.keyClick(window, Qt.Key.Key_N, Qt.KeyboardModifier.ControlModifier)


def test_size_splitter_and_area_are_remembered_between_starts(qtbot: QtBot, tmp_path: Path) -> None:
    first = MainWindow(_settings(tmp_path))
    qtbot.addWidget(first)
    first.add_area("Tables", QLabel("tables page"))
    first.show()
    first.resize(720, 520)  # the offscreen screen is 800 x 600
    first.splitter.setSizes([300, 420])
    first.show_area("Tables")
    first.close()

    second = MainWindow(_settings(tmp_path))
    qtbot.addWidget(second)
    second.add_area("Tables", QLabel("tables page"))
    second.restore_window_state()
    second.show()
    assert (second.width(), second.height()) == (720, 520)
    assert second.splitter.sizes()[0] == 300
    assert second.areas.tabText(second.areas.currentIndex()) == "Tables"


def test_theme_choice_is_saved_and_turns_the_app_dark(qtbot: QtBot, qapp: QApplication, tmp_path: Path) -> None:
    settings = _settings(tmp_path)
    page = SettingsPage(settings)
    qtbot.addWidget(page)
    page.theme_chosen.connect(lambda scheme: apply_theme(qapp, Scheme(scheme)))
    try:
        with qtbot.waitSignal(page.theme_chosen, timeout=2000) as chosen:
            page.findChild(type(page.theme_buttons.buttons()[0]), "theme_dark").click()
        assert chosen.args == ["dark"]
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert SettingsPage(settings).theme() is Scheme.DARK
    finally:
        apply_theme(qapp, Scheme.LIGHT)
    assert qapp.palette().color(QPalette.ColorRole.Window).lightness() > 150


def test_a_timeout_that_is_not_a_duration_is_explained_and_not_used(qtbot: QtBot, tmp_path: Path) -> None:
    page = SettingsPage(_settings(tmp_path))
    qtbot.addWidget(page)
    page.show()
    page.lock_timeout.setText("soon")
    page.lock_timeout.editingFinished.emit()
    assert page.timeout_problem.isVisible()
    assert "Not a duration: lock wait" in page.timeout_problem.text()
    assert page.plan_options().lock_timeout == "5s"
    page.lock_timeout.setText("30s")
    page.concurrent.setChecked(True)
    page.lock_timeout.editingFinished.emit()
    assert not page.timeout_problem.isVisible()
    options = SettingsPage(_settings(tmp_path)).plan_options()
    assert (options.lock_timeout, options.concurrent_indexes) == ("30s", True)


def test_errors_show_in_a_banner_and_information_in_the_status_bar(qtbot: QtBot, tmp_path: Path) -> None:
    window = MainWindow(_settings(tmp_path))
    qtbot.addWidget(window)
    window.show()
    window.show_message(UserMessage(Level.INFO, "Saved the data model"))
    assert window.statusBar().currentMessage() == "Saved the data model"
    assert not window.message_banner.isVisible()
    window.show_message(UserMessage(Level.ERROR, "No network: Studio could not reach api.supabase.com",
                                    "Check your connection, then press F5."))
    assert window.message_banner.isVisible()
    assert "press F5" in window.message_text.text()


def test_without_a_password_store_settings_offer_to_keep_secrets_for_this_session(qtbot: QtBot,
                                                                                   tmp_path: Path) -> None:
    page = SettingsPage(_settings(tmp_path))
    qtbot.addWidget(page)
    page.show_secret_store("Stored in GNOME Keyring (Secret Service)")
    assert not page.session_only_button.isVisibleTo(page)
    page.show_secret_store("Studio found no password store on this computer.", missing=True)
    assert page.session_only_button.isVisibleTo(page)
    with qtbot.waitSignal(page.session_only_chosen, timeout=1000):
        page.session_only_button.click()


def test_a_live_switch_to_dark_recolours_banners_and_headings_already_on_screen(qtbot: QtBot,
                                                                               qapp: QApplication) -> None:
    apply_theme(qapp, Scheme.LIGHT)
    window = MainWindow()
    qtbot.addWidget(window)
    window.show_message(UserMessage(Level.ERROR, "The server went away.", "Start it again."))
    light_banner = colors().banner_background.name()
    assert light_banner in window.message_banner.styleSheet()
    muted_light = colors().muted.name()
    assert muted_light in window.detail.styleSheet()
    try:
        apply_theme(qapp, Scheme.DARK)
        dark = colors()
        # The banner built in the light theme now has the dark theme's background, the muted line its grey.
        assert dark.banner_background.name() in window.message_banner.styleSheet()
        assert light_banner not in window.message_banner.styleSheet()
        assert dark.muted.name() in window.detail.styleSheet()
    finally:
        apply_theme(qapp, Scheme.LIGHT)
    assert light_banner in window.message_banner.styleSheet()
