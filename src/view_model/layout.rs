//! Sizes that follow the window: the side of a grid panel, of a comparison tile, and of the
//! focus view's large panel and strip, from the space the UI has. Pure arithmetic on points, so
//! the UI only asks and draws.

/// Height of a panel's or tile's caption line, in points.
pub const CAPTION: f32 = 18.0;

/// Gap between panels, in points.
pub const GAP: f32 = 8.0;

/// The side of a square grid panel when `columns` panels (each with a caption) must fit across
/// `width` and at least one row must fit in `height`: as large as both allow, between 64 and
/// 512 points.
pub fn grid_side(width: f32, height: f32, columns: usize) -> f32 {
    let cols = crate::convert::to_f32(columns.max(1));
    let across = (width - GAP * (cols - 1.0) - 8.0) / cols;
    let down = height - CAPTION - GAP;
    across.min(down).clamp(64.0, 512.0)
}

/// How many panels a grid row holds: four, fewer when the window is too narrow for them at
/// 128 points each, and never more than there are panels.
pub fn grid_columns(width: f32, panels: usize) -> usize {
    let fit = ((width + GAP) / (128.0 + GAP)).floor();
    let fit = crate::convert::cell_index(f64::from(fit), 5).max(1);
    fit.min(4).min(panels.max(1))
}

/// The side of a comparison tile when `tiles` tiles, each with `lines` text lines under it,
/// sit in two columns in a `width` × `height` panel: as large as fits, between 48 and 192.
pub fn tile_side(width: f32, height: f32, tiles: usize, lines: usize) -> f32 {
    let rows = crate::convert::to_f32(tiles.div_ceil(2).max(1));
    let text = crate::convert::to_f32(lines) * CAPTION + GAP;
    let across = (width - GAP) / 2.0;
    let down = height / rows - text;
    across.min(down).clamp(48.0, 192.0)
}

/// The focus view: the large panel's side and the side of each small panel in the strip beside
/// it, for `small` small panels in a `width` × `height` area.
pub fn focus_sides(width: f32, height: f32, small: usize) -> (f32, f32) {
    let n = crate::convert::to_f32(small.max(1));
    let strip = ((height - n * (CAPTION + GAP)) / n).clamp(40.0, 96.0);
    let large = (width - strip - 3.0 * GAP).min(height - CAPTION - GAP).max(64.0);
    (large, strip)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panels_follow_the_window() {
        // A laptop's view area: four across, the row fits the height.
        let side = grid_side(1000.0, 330.0, 4);
        assert!(side <= 330.0 - CAPTION && side * 4.0 + 3.0 * GAP <= 1000.0, "{side}");
        // A 4K view area is capped.
        assert_eq!(grid_side(3000.0, 1500.0, 4), 512.0);
        assert_eq!(grid_side(10.0, 10.0, 4), 64.0);
        assert_eq!(grid_columns(1000.0, 10), 4);
        assert_eq!(grid_columns(300.0, 10), 2);
        assert_eq!(grid_columns(1000.0, 3), 3);
        assert_eq!(grid_columns(0.0, 0), 1);
    }

    #[test]
    fn tiles_and_focus_fit() {
        // Seven tiles in two columns, two text lines each, in a 240 × 680 panel.
        let t = tile_side(240.0, 680.0, 7, 2);
        assert!(t >= 48.0 && 4.0 * (t + 2.0 * CAPTION + GAP) <= 680.0 + 1e-3, "{t}");
        assert!(2.0 * t + GAP <= 240.0);
        let (large, strip) = focus_sides(1000.0, 400.0, 9);
        assert!(large <= 400.0 && large + strip <= 1000.0, "{large} {strip}");
        assert!(strip >= 40.0);
    }
}
