//! The central view: the image, the heatmap's R, G, B channels as signed panels with one shared
//! colour bar, the channel sum, the change map, an overlay and the model's input, plus the
//! method comparison grid. Hover shows raw values; scroll zooms and drag pans all panels.

use egui::{Color32, ColorImage, TextureOptions, Vec2};

use crate::app::App;
use crate::app::state::ScaleMode;
use crate::ax::HeatmapSource;
use crate::ax::Variant;
use crate::colormap;

/// One panel's values for hover read-out, `[h, w]`.
struct Plane {
    title: String,
    values: Vec<f32>,
}

/// The panels of the shown step: the planes for hover plus what the header shows.
pub(super) struct Built {
    planes: Vec<Plane>,
    scale: f32,
    abs_max: f32,
    step_text: String,
}

/// What the view shows, cheaply: the cached panels are reused while it is unchanged.
fn view_key(app: &App) -> Option<String> {
    let st = &app.state;
    let e = st.current_entry()?;
    let source = match st.view {
        HeatmapSource::Gax => {
            let run = e.run.as_ref()?;
            let last = run.heatmaps.len().checked_sub(1)?;
            let t = st.timeline.selected.min(last);
            let whole = if st.scale == ScaleMode::WholeRun {
                run.steps.iter().fold(0.0_f32, |m, s| m.max(s.abs_max))
            } else {
                0.0
            };
            format!("gax:{t}:{}:{whole}:{:p}", t < last, std::sync::Arc::as_ptr(&e.image))
        }
        HeatmapSource::Method(m) => {
            format!("{m}:{:p}", std::sync::Arc::as_ptr(&e.attributions.get(&m)?.heatmap))
        }
    };
    Some(format!("{:?}:{source}:{:?}:{}", st.current, st.scale, st.opacity))
}

/// The panels on show, rebuilt only when the view changes. While a run streams and the view
/// follows it, rebuilds happen at most every 50 ms so colour mapping never crowds out a frame.
fn built(app: &mut App, ctx: &egui::Context) -> Option<std::rc::Rc<Built>> {
    let key = view_key(app)?;
    if let Some((k, b, at)) = &app.textures.view {
        let streaming = app.state.gax_running() && app.state.timeline.follow;
        if *k == key || (streaming && at.elapsed() < std::time::Duration::from_millis(50)) {
            if *k != key {
                ctx.request_repaint_after(std::time::Duration::from_millis(50));
            }
            return Some(std::rc::Rc::clone(b));
        }
    }
    let b = std::rc::Rc::new(build(app, ctx)?);
    app.textures.view = Some((key, std::rc::Rc::clone(&b), std::time::Instant::now()));
    Some(b)
}

fn build(app: &mut App, ctx: &egui::Context) -> Option<Built> {
    let st = &app.state;
    let e = st.current_entry()?;
    let (h, w) = (e.image.height, e.image.width);
    let n = h * w;
    let (heat, prev_next, variant, whole_max, step_text) = match st.view {
        HeatmapSource::Gax => {
            let run = e.run.as_ref()?;
            let last = run.heatmaps.len().checked_sub(1)?;
            let t = st.timeline.selected.min(last);
            let cur = run.heatmaps[t].to_f32();
            let next = (t < last).then(|| run.heatmaps[t + 1].to_f32());
            let whole = run.steps.iter().fold(0.0_f32, |m, s| m.max(s.abs_max));
            let s = run.steps[t];
            let text =
                format!("GAX step {t}: CO {:.3}, predicted {}", s.co, st.class_name(s.predicted));
            (cur, Some(next), run.config.variant, whole, text)
        }
        HeatmapSource::Method(m) => {
            let a = e.attributions.get(&m)?;
            (
                a.heatmap.to_vec(),
                None,
                Variant::Sum,
                1.0,
                format!("{m}: CO sum {:.3}, mult {:.3}", a.co_sum, a.co_mult),
            )
        }
    };
    let abs_max = heat.iter().fold(0.0_f32, |m, v| m.max(v.abs()));
    let scale = match st.scale {
        ScaleMode::Fixed => 1.0,
        ScaleMode::PerStep => abs_max,
        ScaleMode::WholeRun => whole_max,
        ScaleMode::Percentile => colormap::abs_quantile(&heat, 0.99),
    };
    let sum: Vec<f32> = (0..n).map(|i| heat[i] + heat[n + i] + heat[2 * n + i]).collect();
    let image = e.image.data.clone();
    let xp: Vec<f32> = match variant {
        Variant::Sum => image.iter().zip(&heat).map(|(x, h)| x + h).collect(),
        Variant::Mult => image.iter().zip(&heat).map(|(x, h)| x * h).collect(),
    };
    let change: Option<Vec<f32>> = prev_next.map(|next| match next {
        Some(nx) => nx.iter().zip(&heat).map(|(a, b)| (a - b).abs()).collect(),
        None => vec![0.0; 3 * n],
    });
    let opacity = st.opacity;
    let mut planes = vec![
        Plane { title: "image".into(), values: image[..n].to_vec() },
        Plane { title: "heatmap R".into(), values: heat[..n].to_vec() },
        Plane { title: "heatmap G".into(), values: heat[n..2 * n].to_vec() },
        Plane { title: "heatmap B".into(), values: heat[2 * n..].to_vec() },
        Plane { title: "channel sum".into(), values: sum.clone() },
        Plane { title: "overlay".into(), values: sum.clone() },
        Plane {
            title: format!("model input ({})", if variant == Variant::Sum { "x+h" } else { "x*h" }),
            values: xp[..n].to_vec(),
        },
    ];
    if let Some(c) = &change {
        for (k, ch) in ["R", "G", "B"].iter().enumerate() {
            planes.push(Plane {
                title: format!("change {ch}"),
                values: c[k * n..(k + 1) * n].to_vec(),
            });
        }
    }
    let tex = &mut app.textures;
    let opts = TextureOptions::NEAREST;
    tex.put(ctx, "image", colormap::rgb(&image, w, h), TextureOptions::LINEAR);
    for (k, name) in ["heatmap R", "heatmap G", "heatmap B"].iter().enumerate() {
        tex.put(ctx, name, colormap::signed_plane(&heat[k * n..(k + 1) * n], w, h, scale), opts);
    }
    tex.put(ctx, "channel sum", colormap::signed_plane(&sum, w, h, 3.0 * scale), opts);
    tex.put(
        ctx,
        "overlay",
        colormap::overlay(&image, &sum, w, h, 3.0 * scale, opacity),
        TextureOptions::LINEAR,
    );
    tex.put(ctx, "model input", colormap::rgb(&xp, w, h), TextureOptions::LINEAR);
    if let Some(c) = &change {
        // |h[t+1] − h[t]| ≤ 2 always; one fixed scale keeps frames comparable across the run.
        for (k, ch) in ["R", "G", "B"].iter().enumerate() {
            tex.put(
                ctx,
                &format!("change {ch}"),
                colormap::magnitude_plane(&c[k * n..(k + 1) * n], w, h, 0.1),
                opts,
            );
        }
    }
    Some(Built { planes, scale, abs_max, step_text })
}

fn texture_name(title: &str) -> &str {
    if title.starts_with("model input") { "model input" } else { title }
}

/// Draws the view.
pub fn show(app: &mut App, ui: &mut egui::Ui) {
    ui.heading(super::REGION_LABELS[2]);
    ui.horizontal(|ui| {
        let st = &mut app.state;
        egui::ComboBox::from_label("scale").selected_text(st.scale.label()).show_ui(ui, |ui| {
            for m in ScaleMode::ALL {
                ui.selectable_value(&mut st.scale, m, m.label());
            }
        });
        ui.add(egui::Slider::new(&mut st.opacity, 0.0..=1.0).text("overlay opacity"));
        if ui.button("reset zoom").clicked() {
            st.zoom = Default::default();
        }
    });
    if app.state.current_entry().is_none() {
        ui.label("open an image (File > Open image... or drop a file on the window)");
        return;
    }
    let ctx = ui.ctx().clone();
    if app.state.view == HeatmapSource::Gax && app.state.current_run().is_none() {
        // Nothing to show for GAX yet: fall back to a method's heatmap when there is one.
        if let Some(m) =
            app.state.current_entry().and_then(|e| e.attributions.keys().next().copied())
        {
            app.state.view = HeatmapSource::Method(m);
        }
    }
    let Some(built) = built(app, &ctx) else {
        ui.label("run GAX or a method to see a heatmap");
        image_only(app, ui, &ctx);
        return;
    };
    ui.horizontal(|ui| {
        ui.label(&built.step_text);
        ui.separator();
        ui.label(format!("abs max {:.4}", built.abs_max));
        ui.separator();
        colour_bar(ui, built.scale);
    });
    egui::ScrollArea::both().show(ui, |ui| {
        let avail = ui.available_width();
        let side = ((avail - 40.0) / 4.0).clamp(96.0, 320.0);
        let (h, w) = app.state.current_entry().map_or((1, 1), |e| (e.image.height, e.image.width));
        egui::Grid::new("panels").spacing([8.0, 8.0]).show(ui, |ui| {
            for (i, plane) in built.planes.iter().enumerate() {
                panel(app, ui, plane, side, w, h);
                if i % 4 == 3 {
                    ui.end_row();
                }
            }
        });
        comparison(app, ui);
    });
}

fn image_only(app: &mut App, ui: &mut egui::Ui, ctx: &egui::Context) {
    let Some(e) = app.state.current_entry() else { return };
    let key = format!("{:p}", std::sync::Arc::as_ptr(&e.image));
    let image = std::sync::Arc::clone(&e.image);
    let id = app.textures.put_keyed(
        ctx,
        "image only",
        &key,
        || colormap::rgb(&image.data, image.width, image.height),
        TextureOptions::LINEAR,
    );
    ui.add(egui::Image::new((id, Vec2::splat(320.0))).alt_text("image"));
}

fn panel(app: &mut App, ui: &mut egui::Ui, plane: &Plane, side: f32, w: usize, h: usize) {
    let Some(tex) = app.textures.get(texture_name(&plane.title)) else { return };
    let (uv0, uv1) = app.state.zoom.uv();
    let id = tex.id();
    ui.vertical(|ui| {
        ui.label(&plane.title);
        let resp = ui.add(
            egui::Image::new((id, Vec2::splat(side)))
                .uv(egui::Rect::from_min_max(uv0.into(), uv1.into()))
                .alt_text(plane.title.clone())
                .sense(egui::Sense::click_and_drag()),
        );
        if let Some(pos) = resp.hover_pos() {
            let fx = uv0[0] + (pos.x - resp.rect.left()) / resp.rect.width() * (uv1[0] - uv0[0]);
            let fy = uv0[1] + (pos.y - resp.rect.top()) / resp.rect.height() * (uv1[1] - uv0[1]);
            // Fractions in [0, 1] times the size, clamped to the last pixel.
            #[allow(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                clippy::cast_precision_loss
            )]
            let (px, py) =
                (((fx * w as f32) as usize).min(w - 1), ((fy * h as f32) as usize).min(h - 1));
            let v = plane.values.get(py * w + px).copied().unwrap_or(0.0);
            resp.clone().on_hover_text(format!("x {px}, y {py}: {v:.5}"));
            let scroll = ui.input(|i| i.smooth_scroll_delta.y);
            if scroll != 0.0 {
                let z = &mut app.state.zoom;
                z.zoom = (z.zoom * (1.0 + scroll * 0.002)).clamp(1.0, 32.0);
                z.center = [fx, fy];
            }
        }
        let texture = texture_name(&plane.title).to_owned();
        resp.context_menu(|ui| {
            if ui.button("Save panel as PNG...").clicked() {
                if let Some(p) = rfd::FileDialog::new()
                    .set_file_name(format!("{texture}.png"))
                    .add_filter("png", &["png"])
                    .save_file()
                {
                    app.export_panel_png(&texture, &p);
                }
                ui.close();
            }
        });
        if resp.dragged() {
            let d = resp.drag_delta();
            let z = &mut app.state.zoom;
            z.center[0] -= d.x / side / z.zoom;
            z.center[1] -= d.y / side / z.zoom;
        }
    });
}

fn colour_bar(ui: &mut egui::Ui, scale: f32) {
    ui.label(format!("{:.3}", -scale));
    let (rect, _) = ui.allocate_exact_size(Vec2::new(160.0, 14.0), egui::Sense::hover());
    let painter = ui.painter();
    let steps = 64;
    for i in 0..steps {
        let t0 = i as f32 / steps as f32;
        let t1 = (i + 1) as f32 / steps as f32;
        let r = egui::Rect::from_min_max(
            egui::pos2(rect.left() + t0 * rect.width(), rect.top()),
            egui::pos2(rect.left() + t1 * rect.width(), rect.bottom()),
        );
        painter.rect_filled(r, 0.0, colormap::diverging(2.0 * t0 - 1.0));
    }
    painter.rect_stroke(rect, 0.0, egui::Stroke::new(1.0, Color32::GRAY), egui::StrokeKind::Inside);
    ui.label(format!("{scale:.3}"));
}

fn comparison(app: &mut App, ui: &mut egui::Ui) {
    let Some(e) = app.state.current_entry() else { return };
    if e.attributions.is_empty() {
        return;
    }
    let (h, w) = (e.image.height, e.image.width);
    let n = h * w;
    let items: Vec<_> = e.attributions.iter().map(|(m, a)| (*m, a.clone())).collect();
    let gax_co = e.run.as_ref().and_then(|r| r.steps.last()).map(|s| s.co);
    ui.separator();
    ui.strong("Method comparison (channel sum, scale ±3)");
    let ctx = ui.ctx().clone();
    let mut pick = None;
    ui.horizontal_wrapped(|ui| {
        for (m, a) in &items {
            let key = format!("{:p}", std::sync::Arc::as_ptr(&a.heatmap));
            let make = || -> ColorImage {
                let sum: Vec<f32> = (0..n)
                    .map(|i| a.heatmap[i] + a.heatmap[n + i] + a.heatmap[2 * n + i])
                    .collect();
                colormap::signed_plane(&sum, w, h, 3.0)
            };
            let id = app.textures.put_keyed(
                &ctx,
                &format!("cmp {m}"),
                &key,
                make,
                TextureOptions::NEAREST,
            );
            ui.vertical(|ui| {
                ui.label(m.name());
                if ui
                    .add(
                        egui::Image::new((id, Vec2::splat(128.0)))
                            .alt_text(m.name())
                            .sense(egui::Sense::click()),
                    )
                    .clicked()
                {
                    pick = Some(*m);
                }
                ui.label(format!("CO sum {:.3}", a.co_sum));
                ui.label(format!("CO mult {:.3}", a.co_mult));
            });
        }
        if let Some(co) = gax_co {
            ui.vertical(|ui| {
                ui.label("GAX");
                if ui.button("show GAX").clicked() {
                    app.state.view = HeatmapSource::Gax;
                }
                ui.label(format!("CO {co:.3}"));
            });
        }
    });
    if let Some(m) = pick {
        app.state.view = HeatmapSource::Method(m);
    }
}
