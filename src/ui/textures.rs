//! Textures created once per name and updated in place with `set` when the content they show
//! changes, told by a content id (a view-model build, an image, a result), never by address.

use std::collections::HashMap;
use std::sync::Arc;

use egui::{ColorImage, TextureHandle, TextureId, TextureOptions};

/// The UI's textures by name, each with the id of the content it shows.
#[derive(Default)]
pub struct Textures {
    slots: HashMap<String, (TextureHandle, u64)>,
}

impl Textures {
    /// Shows `image` (content `id`) under `name`: creates the texture the first time, then
    /// replaces its pixels only when `id` differs from the content shown now.
    pub fn show(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        id: u64,
        image: &Arc<ColorImage>,
        options: TextureOptions,
    ) -> TextureId {
        match self.slots.get_mut(name) {
            Some((handle, shown)) => {
                if *shown != id {
                    handle.set(Arc::clone(image), options);
                    *shown = id;
                }
                handle.id()
            }
            None => {
                let handle = ctx.load_texture(name, Arc::clone(image), options);
                let tex = handle.id();
                self.slots.insert(name.to_owned(), (handle, id));
                tex
            }
        }
    }

    /// How many textures exist (bounded by the number of panels, tiles and open images).
    pub fn len(&self) -> usize {
        self.slots.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.slots.is_empty()
    }
}
