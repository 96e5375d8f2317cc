//! The help overlay (F1 or ?): the keyboard shortcuts and what each panel shows.

use crate::app::App;

/// The keyboard and mouse shortcuts, as (keys, what they do).
pub const SHORTCUTS: [(&str, &str); 7] = [
    ("F1 or ?", "show or hide this help"),
    ("Left / Right", "previous / next GAX step"),
    ("Esc", "close this help"),
    ("scroll over a panel", "zoom all panels"),
    ("drag a panel", "pan all panels"),
    ("right-click a panel", "save it as PNG"),
    ("click the CO curve or a tile", "select that step / show that heatmap"),
];

/// What each panel shows, as (panel, description).
pub const PANELS: [(&str, &str); 12] = [
    ("image", "the image at the model's input size"),
    (
        "heatmap R, G, B",
        "the heatmap h per channel (one 'heatmap' for a 1-channel model): red raises, blue lowers",
    ),
    ("channel sum", "h summed over the channels"),
    ("overlay", "the channel sum over the image"),
    ("model input", "what the model sees: x+h or x*h"),
    (
        "change R, G, B",
        "|h(t+1) − h(t)| per channel (one 'change' for 1 channel); at the last step the last one",
    ),
    ("Timeline", "CO per GAX step with the target line; loss and similarity beside it"),
    ("Method comparison", "each method's channel sum and CO scores, GAX last"),
    ("scale", "fixed ±1, per step, whole run or 99th percentile"),
    ("grid / focus", "all chosen panels, or one large panel and a strip"),
    ("panels", "which panels the grid shows"),
    ("status line", "the image on show, messages, errors until dismissed"),
];

/// Toggles the overlay on F1 or ? (when no text field has the keyboard) and closes it on Esc.
pub fn keys(app: &mut App, ctx: &egui::Context) {
    let typing = ctx.egui_wants_keyboard_input();
    let (f1, question, escape) = ctx.input(|i| {
        let question = i.events.iter().any(|e| matches!(e, egui::Event::Text(t) if t == "?"));
        (i.key_pressed(egui::Key::F1), question, i.key_pressed(egui::Key::Escape))
    });
    if f1 || (question && !typing) {
        app.state.help_open = !app.state.help_open;
    }
    if escape {
        app.state.help_open = false;
    }
}

/// Draws the overlay when it is open.
pub fn window(app: &mut App, ctx: &egui::Context) {
    let mut open = app.state.help_open;
    egui::Window::new("Help").open(&mut open).collapsible(false).show(ctx, |ui| {
        ui.strong("Shortcuts");
        egui::Grid::new("help shortcuts").num_columns(2).striped(true).show(ui, |ui| {
            for (keys, what) in SHORTCUTS {
                ui.label(keys);
                ui.label(what);
                ui.end_row();
            }
        });
        ui.separator();
        ui.strong("Panels");
        egui::Grid::new("help panels").num_columns(2).striped(true).show(ui, |ui| {
            for (panel, what) in PANELS {
                ui.label(panel);
                ui.label(what);
                ui.end_row();
            }
        });
    });
    app.state.help_open = open && app.state.help_open;
}
