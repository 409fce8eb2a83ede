# Draw an ngx_bubble spec with R's ggplot2, for a side-by-side comparison.
#
#   Rscript tests/compare/ggplot2_side_by_side.R SPEC.json OUT.png [CODE.R]
#
# Maps spec v1 (docs/spec.md) onto the ggplot2 code an R user would write
# for the same chart, saves it as a PNG of the same pixel size as ours
# (ggsave at 96 dpi * scale, width = width / 96 in) and, with CODE.R, also
# writes that ggplot2 code.  tests/compare/run.sh fetches our PNG from the
# running module and puts the two side by side.
#
# Debian: r-base-core r-cran-ggplot2 r-cran-jsonlite.
#
# Bubble sizes.  Our radii are CSS px (1/96 in).  ggplot2's geom_point()
# with shape 19 draws a circle of radius 0.375 * fontsize points, where
# fontsize = size * .pt + stroke * .stroke / 2; with stroke = 0 and 1 pt =
# 96/72 px that is
#
#     r_px = 0.375 * size * .pt * 96 / 72 = size * .pt / 2
#
# so size = r_px / (.pt / 2) = r_px / 1.4226 (measured: size 10 -> 28 px
# wide).  scale_size_area(max_size = rmax / (.pt / 2)) then gives the same
# bubble areas as our "area" scale, scale_radius(range = range / (.pt / 2))
# the same radii as our "radius" scale.

suppressPackageStartupMessages({
    library(ggplot2)
    library(jsonlite)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) {
    stop("usage: ggplot2_side_by_side.R SPEC.json OUT.png [CODE.R]")
}

spec <- fromJSON(args[1], simplifyVector = TRUE, simplifyDataFrame = TRUE)
raw <- fromJSON(args[1], simplifyVector = FALSE)     # tells "a" from ["a"]
out <- args[2]
code_out <- if (length(args) >= 3) args[3] else NA

px_to_size <- function(r) r / (.pt / 2)        # our radius px -> ggplot size

`%||%` <- function(a, b) if (is.null(a)) b else a

# data: rows -> data.frame (missing members are NA), columns -> data.frame
df <- spec$data
if (!is.data.frame(df)) {
    df <- as.data.frame(lapply(df, function(v) {
        if (is.list(v)) v <- unlist(lapply(v, function(e) if (is.null(e)) NA else e))
        v
    }), check.names = FALSE, stringsAsFactors = FALSE)
}

# mapping: docs/spec.md's defaults are the columns of the same name
aes_names <- c("x", "y", "size", "color", "label", "tooltip")
m <- spec$mapping %||% list()
if (!is.null(m$colour) && is.null(m$color)) m$color <- m$colour
col_of <- function(a) {
    if (a %in% names(m)) {
        v <- m[[a]]
        if (is.null(v) || (length(v) == 1 && is.na(v))) return(NULL)
        return(v)
    }
    if (a %in% names(df)) a else NULL
}
cols <- setNames(lapply(aes_names, col_of), aes_names)

code <- character()
emit <- function(...) code <<- c(code, paste0(...))
q <- function(s) deparse(s)

# scales that ggplot2 would need to read our columns the same way
xcol <- cols$x; ycol <- cols$y
color_kind <- "none"
cs <- spec$color %||% list()
if (!is.null(cols$color)) {
    v <- df[[cols$color]]
    type <- cs$type %||% (if (is.numeric(v)) "continuous" else "categorical")
    if (type == "categorical") {
        lev <- if (is.character(cs$limits)) cs$limits else sort(unique(v[!is.na(v)]))
        df[[cols$color]] <- factor(v, levels = lev)
        emit("df[[", q(cols$color), "]] <- factor(df[[", q(cols$color), "]], levels = ",
             paste(deparse(lev), collapse = ""), ")")
        color_kind <- "discrete"
    } else {
        color_kind <- "continuous"
    }
}

mapping <- aes(x = .data[[xcol]], y = .data[[ycol]])
emit("p <- ggplot(df, aes(x = .data[[", q(xcol), "]], y = .data[[", q(ycol), "]]))")

alpha <- spec$alpha %||% 0.7
stroke <- spec$stroke
point_args <- list(alpha = alpha, stroke = 0, shape = 19)
paes <- aes()
if (!is.null(cols$size)) paes$size <- aes(size = .data[[cols$size]])$size
if (!is.null(cols$color)) {
    if (!is.null(stroke)) {
        paes$fill <- aes(fill = .data[[cols$color]])$fill
    } else {
        paes$colour <- aes(colour = .data[[cols$color]])$colour
    }
}
if (!is.null(stroke)) {
    point_args$shape <- 21
    point_args$colour <- stroke$color %||% "black"
    # our outline is stroke.width px, ggplot2's lwd is stroke * .stroke / 2 px
    point_args$stroke <- (stroke$width %||% 0.5) / (.stroke / 2)
    if (is.null(cols$color)) point_args$fill <- cs$value %||% "black"
} else if (is.null(cols$color)) {
    point_args$colour <- cs$value %||% "black"
}
if (is.null(cols$size)) {
    sz <- spec$size
    point_args$size <- px_to_size(if (!is.null(sz$range)) sz$range[2] else 4)
}
p <- ggplot(df, mapping) + do.call(geom_point, c(list(mapping = paes), point_args))
aes_code <- paste0(names(paes), " = .data[[",
                   sapply(c(size = cols$size, colour = cols$color, fill = cols$color)[names(paes)], q),
                   "]]", collapse = ", ")
emit("p <- p + geom_point(aes(", aes_code, "), ",
     paste(names(point_args), sapply(point_args, function(a) paste(deparse(a), collapse = "")),
           sep = " = ", collapse = ", "), ")")

# labels: ggplot2's own geom_text(check_overlap = TRUE), centred on the
# points (ours are placed around the bubbles; see docs/compare/README.md)
base_size <- spec$font$size %||% 11
family <- spec$font$family %||% "DejaVu Sans"
if (!is.null(cols$label)) {
    lab_size <- 0.8 * base_size / .pt
    p <- p + geom_text(aes(label = .data[[cols$label]]), size = lab_size,
                       family = family, check_overlap = TRUE, colour = "black")
    emit("p <- p + geom_text(aes(label = .data[[", q(cols$label), "]]), size = ",
         signif(lab_size, 4), ", check_overlap = TRUE)")
}

# position scales
axis_scale <- function(which, a, col) {
    labels_format <- !is.null(raw[[which]]$labels) && !is.list(raw[[which]]$labels)
    a <- a %||% list()
    trans <- switch(a$scale %||% "linear", linear = "identity", log10 = "log10",
                    sqrt = "sqrt")
    if (isTRUE(a$reverse)) {
        trans <- if (trans == "identity") "reverse"
                 else scales::compose_trans(trans, "reverse")
    }
    args <- list(name = a$title %||% col, trans = trans)
    if (!is.null(a$limits)) args$limits <- if (isTRUE(a$reverse)) rev(a$limits) else a$limits
    if (!is.null(a$breaks)) args$breaks <- a$breaks
    if (!is.null(a$labels)) {
        if (labels_format) {
            fmt <- a$labels
            args$labels <- function(x) sprintf(fmt, x)
        } else {
            args$labels <- a$labels
        }
    }
    f <- if (which == "x") scale_x_continuous else scale_y_continuous
    emit("p <- p + scale_", which, "_continuous(",
         paste(names(args), sapply(args, function(v) {
             if (is.function(v)) paste0("function(x) sprintf(", q(a$labels), ", x)")
             else if (inherits(v, "trans")) paste0("scales::compose_trans(", q(a$scale), ", \"reverse\")")
             else paste(deparse(v), collapse = "")
         }), sep = " = ", collapse = ", "), ")")
    do.call(f, args)
}
p <- p + axis_scale("x", spec$x, xcol) + axis_scale("y", spec$y, ycol)

# size scale
if (!is.null(cols$size)) {
    sz <- spec$size %||% list()
    range <- sz$range %||% c(1, 20)
    args <- list(name = sz$title %||% cols$size)
    if (!is.null(sz$limits)) args$limits <- sz$limits
    if (!is.null(sz$breaks)) args$breaks <- sz$breaks
    if ((sz$type %||% "area") == "radius") {
        args$range <- px_to_size(range)
        p <- p + do.call(scale_radius, args)
        emit("p <- p + scale_radius(range = c(", paste(signif(args$range, 4), collapse = ", "),
             "), name = ", q(args$name), ")  # ", paste(range, collapse = ".."), " px")
    } else {
        args$max_size <- px_to_size(range[2])
        p <- p + do.call(scale_size_area, args)
        emit("p <- p + scale_size_area(max_size = ", signif(args$max_size, 4),
             ", name = ", q(args$name), ")  # ", range[2], " px")
    }
}

# colour scale
aesthetic <- if (!is.null(stroke)) "fill" else "colour"
viridis <- c("viridis", "magma", "plasma", "inferno", "cividis")
if (color_kind != "none") {
    pal <- cs$palette
    name <- cs$title %||% cols$color
    if (color_kind == "discrete") {
        lev <- levels(df[[cols$color]])
        if (is.null(pal) || (is.character(pal) && length(pal) == 1 && tolower(pal) == "hue")) {
            sc <- scale_colour_hue(name = name, aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_hue(name = ", q(name), ")")
        } else if (length(pal) > 1 || grepl("^#", pal)) {
            vals <- rep_len(pal, length(lev))
            sc <- scale_colour_manual(name = name, values = vals, limits = lev,
                                      aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_manual(name = ", q(name), ", values = ",
                 paste(deparse(vals), collapse = ""), ")")
        } else if (tolower(pal) %in% viridis) {
            sc <- scale_colour_viridis_d(name = name, option = tolower(pal),
                                         aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_viridis_d(name = ", q(name),
                 ", option = ", q(tolower(pal)), ")")
        } else {
            bp <- c(set2 = "Set2", dark2 = "Dark2")[[tolower(pal)]]
            sc <- scale_colour_brewer(name = name, palette = bp, aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_brewer(name = ", q(name),
                 ", palette = ", q(bp), ")")
        }
    } else {
        lim <- if (is.numeric(cs$limits)) cs$limits else NULL
        if (length(pal) > 1) {
            sc <- scale_colour_gradientn(name = name, colours = pal, limits = lim,
                                         aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_gradientn(name = ", q(name), ", colours = ",
                 paste(deparse(pal), collapse = ""), ")")
        } else {
            opt <- tolower(pal %||% "viridis")
            sc <- scale_colour_viridis_c(name = name, option = opt, limits = lim,
                                         aesthetics = aesthetic)
            emit("p <- p + scale_", aesthetic, "_viridis_c(name = ", q(name),
                 ", option = ", q(opt), ")")
        }
    }
    p <- p + sc
}

# titles, theme, legend
p <- p + labs(title = spec$title, subtitle = spec$subtitle, caption = spec$caption)
emit("p <- p + labs(title = ", q(spec$title), ", subtitle = ", q(spec$subtitle),
     ", caption = ", q(spec$caption), ")")

theme_fun <- switch(spec$theme %||% "gray", gray = theme_gray, grey = theme_gray,
                    minimal = theme_minimal, classic = theme_classic, dark = theme_dark)
p <- p + theme_fun(base_size = base_size, base_family = family)
emit("p <- p + theme_", spec$theme %||% "gray", "(base_size = ", base_size,
     ", base_family = ", q(family), ")")

if (!is.null(spec$background)) {
    p <- p + theme(plot.background = element_rect(fill = spec$background, colour = NA))
    emit("p <- p + theme(plot.background = element_rect(fill = ", q(spec$background),
         ", colour = NA))")
}
if (!is.null(spec$facet$wrap)) {
    fcol <- spec$facet$wrap
    p <- p + facet_wrap(vars(.data[[fcol]]), ncol = spec$facet$ncol)
    emit("p <- p + facet_wrap(vars(.data[[", q(fcol), "]])",
         if (!is.null(spec$facet$ncol)) paste0(", ncol = ", spec$facet$ncol), ")")
}
pos <- spec$legend$position %||% "right"
if (pos != "right") {
    p <- p + theme(legend.position = pos)
    emit("p <- p + theme(legend.position = ", q(pos), ")")
}

width <- spec$width %||% 800
height <- spec$height %||% 600
scale <- spec$scale %||% 1
emit("ggsave(", q(basename(out)), ", p, width = ", width, " / 96, height = ", height,
     " / 96, dpi = ", 96 * scale, ")")

# The device: R's cairo PNG device by default, which lays out text with the
# same pango + fontconfig + FreeType as ngx_bubble, so a difference in the
# pictures is a difference in layout, not in text engines.  ragg (ggsave's
# default when installed) rounds glyph advances at 96 dpi and draws text
# wider: COMPARE_DEVICE=ragg shows what most R users see.
dpi <- 96 * scale
device <- if (Sys.getenv("COMPARE_DEVICE", "cairo") == "ragg") "png" else
    function(filename, width, height, ...)
        grDevices::png(filename, width = width, height = height, units = "in",
                       res = dpi, type = "cairo", ...)
suppressWarnings(ggsave(out, p, width = width / 96, height = height / 96,
                        dpi = dpi, device = device,
                        bg = if (identical(spec$background, "transparent")) "transparent" else NULL))

if (!is.na(code_out)) writeLines(c("# ggplot2 code equivalent to the spec", code), code_out)
