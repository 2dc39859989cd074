"""Pixels in and out: wire images and image files to float tensors and back."""

import io

import torch
import torch.nn.functional as F

from krita_nst.core.sizes import fit
from krita_nst.core.wire import FORMATS, PNG, RAW, Image

# zlib level 1: on 4096 px images 4x faster to write than the default and only ~25 % bigger; over a
# 50 Mbit/s link the smaller file would not pay back the time (docs/remote.md).
PNG_LEVEL = 1

# Where each layout keeps R, G, B and alpha (None: no such channel, gray repeats one channel).
_LAYOUT = {"RGBA8": (0, 1, 2, 3), "BGRA8": (2, 1, 0, 3), "RGB8": (0, 1, 2, None),
           "GRAYA8": (0, 0, 0, 1), "GRAY8": (0, 0, 0, None)}

BACKGROUND = 1.0  # transparent pixels are seen as white paper


def decoded(image: Image) -> Image:
    """A raw Image of a PNG-encoded one (ValueError when the blob is not the PNG its header says)."""
    if image.encoding == RAW:
        return image
    from PIL import Image as PILImage
    try:
        with PILImage.open(io.BytesIO(image.data), formats=["PNG"]) as png:
            if png.size != (image.width, image.height):   # checked before decoding: no bomb
                raise ValueError("it is %dx%d px, not the %dx%d its message says"
                                 % (png.width, png.height, image.width, image.height))
            return Image(image.width, image.height, "RGBA8", png.convert("RGBA").tobytes())
    except (OSError, SyntaxError):   # what Pillow raises for a damaged or foreign file
        raise ValueError("it is not a readable PNG file") from None


def encoded(image: Image, encoding: str) -> Image:
    """The image with its pixels in the given encoding (RGBA8 when PNG)."""
    if encoding == RAW or image.encoding == encoding:
        return image
    out = io.BytesIO()
    _pillow(image).convert("RGBA").save(out, "PNG", compress_level=PNG_LEVEL)
    return Image(image.width, image.height, "RGBA8", out.getvalue(), PNG)


def from_wire(image):
    """(rgb 1x3xHxW, alpha 1x1xHxW or None), floats in 0-1; rgb composited over white."""
    image = decoded(image)
    channels = FORMATS[image.format]
    pixels = torch.frombuffer(bytearray(image.data), dtype=torch.uint8)
    pixels = pixels.view(image.height, image.width, channels).permute(2, 0, 1).float().div_(255.0)
    r, g, b, a = _LAYOUT[image.format]
    rgb = pixels[[r, g, b]].unsqueeze(0)
    alpha = None if a is None else pixels[a:a + 1].unsqueeze(0)
    if alpha is not None:
        rgb = rgb * alpha + BACKGROUND * (1.0 - alpha)
    return rgb.contiguous(), alpha


def to_wire(rgb, alpha, format):
    """Float tensors (1x3xHxW, 1x1xHxW or None) to an Image in the given layout."""
    _, _, h, w = rgb.shape
    if alpha is None:
        alpha = torch.ones(1, 1, h, w)
    rgb, alpha = rgb.detach().float().cpu(), alpha.detach().float().cpu()
    if format.startswith("GRAY"):
        gray = (0.299 * rgb[:, 0] + 0.587 * rgb[:, 1] + 0.114 * rgb[:, 2]).unsqueeze(1)
        planes = [gray, alpha] if format == "GRAYA8" else [gray]
    else:
        r, g, b, a = _LAYOUT[format]
        order = {r: rgb[:, 0:1], g: rgb[:, 1:2], b: rgb[:, 2:3]}
        if a is not None:
            order[a] = alpha
        planes = [order[i] for i in range(FORMATS[format])]
    pixels = torch.cat(planes, 1)[0].clamp(0, 1).mul(255).round().to(torch.uint8)
    return Image(w, h, format, pixels.permute(1, 2, 0).contiguous().numpy().tobytes())


def resize(image, height, width):
    """Bicubic resize with antialiasing when shrinking; float tensors N x C x H x W."""
    if image.shape[-2:] == (height, width):
        return image
    return F.interpolate(image, size=(height, width), mode="bicubic", align_corners=False,
                         antialias=True).clamp(0, 1)


def upscale(coarse, content, amount=1.0):
    """The coarse result at the content's size, with `amount` of the content's detail that the coarse
    scale could not hold.

    Adding the content's high frequencies (its difference from a down-and-up-sampled copy) means a
    fine scale starts sharp and spends its few expensive steps on texture, not on edges; and a
    layer bigger than the working size comes out as sharp as it is, not as a blurred upscale.
    """
    h, w = content.shape[-2:]
    ch, cw = coarse.shape[-2:]
    result = resize(coarse, h, w)
    if amount > 0 and (ch, cw) != (h, w):
        result += amount * (content - resize(resize(content, ch, cw), h, w))
    return result.clamp(0, 1)


def scale_to(image, longest):
    """The image resized so that its longest side is `longest`."""
    height, width = image.shape[-2:]
    w, h = fit(width, height, longest)
    return resize(image, h, w)


def load_file(path: str) -> Image:
    """An image file as an RGBA8 wire Image (the CLI's entry point)."""
    from PIL import Image as PILImage
    with PILImage.open(path) as img:
        rgba = img.convert("RGBA")
        return Image(rgba.width, rgba.height, "RGBA8", rgba.tobytes())


def _pillow(image: Image):
    """A raw wire Image as a Pillow image in its own mode (BGRA8 read through Pillow's raw mode "BGRA")."""
    from PIL import Image as PILImage
    size, data = (image.width, image.height), bytes(image.data)
    if image.format == "BGRA8":
        return PILImage.frombuffer("RGBA", size, data, "raw", "BGRA", 0, 1)
    return PILImage.frombytes({"RGBA8": "RGBA", "RGB8": "RGB", "GRAY8": "L", "GRAYA8": "LA"}[image.format], size, data)


def save_file(image, path):
    out = _pillow(image)
    if path.lower().endswith((".jpg", ".jpeg")):
        out = out.convert("RGB")
    out.save(path)
