//! Textures created once per panel and updated in place with `set`.

use std::collections::HashMap;
use std::sync::Arc;

use egui::{ColorImage, TextureHandle, TextureOptions};

/// The view's textures by panel name, plus the key of what they currently show.
#[derive(Default)]
pub struct Textures {
    handles: HashMap<String, TextureHandle>,
    keys: HashMap<String, String>,
    images: HashMap<String, Arc<ColorImage>>,
    /// The view's panels with their key and build time (see `view::built`).
    pub(super) view: Option<(String, std::rc::Rc<super::view::Built>, std::time::Instant)>,
}

impl Textures {
    /// Uploads `image` under `name`: creates the texture the first time, then replaces its
    /// pixels in place.
    pub fn put(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        image: ColorImage,
        options: TextureOptions,
    ) -> egui::TextureId {
        let image = Arc::new(image);
        self.images.insert(name.to_owned(), Arc::clone(&image));
        if let Some(h) = self.handles.get_mut(name) {
            h.set(image, options);
            h.id()
        } else {
            let h = ctx.load_texture(name, image, options);
            let id = h.id();
            self.handles.insert(name.to_owned(), h);
            id
        }
    }

    /// Like [`Textures::put`], but builds and uploads the image only when `key` differs from
    /// the key of what `name` shows now.
    pub fn put_keyed(
        &mut self,
        ctx: &egui::Context,
        name: &str,
        key: &str,
        make: impl FnOnce() -> ColorImage,
        options: TextureOptions,
    ) -> egui::TextureId {
        if self.keys.get(name).map(String::as_str) == Some(key)
            && let Some(h) = self.handles.get(name)
        {
            return h.id();
        }
        self.keys.insert(name.to_owned(), key.to_owned());
        self.put(ctx, name, make(), options)
    }

    /// The pixels last uploaded under `name` (for "save panel as PNG").
    pub fn image(&self, name: &str) -> Option<Arc<ColorImage>> {
        self.images.get(name).cloned()
    }

    /// The texture shown under `name`, if any.
    pub fn get(&self, name: &str) -> Option<&TextureHandle> {
        self.handles.get(name)
    }

    /// How many textures exist (bounded by the number of panels).
    pub fn len(&self) -> usize {
        self.handles.len()
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.handles.is_empty()
    }
}
