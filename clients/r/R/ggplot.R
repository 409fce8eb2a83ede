# A spec from a ggplot.

bubble_inner <- function(f) {
    e <- environment(f)
    if (!is.null(e) && exists("f", envir = e, inherits = FALSE)) get("f", e) else f
}

bubble_is_waiver <- function(x) inherits(x, "waiver")

# An R colour as the spec takes it: "#RRGGBB" (or "#RRGGBBAA" with alpha);
# R names such as "steelblue3" are not CSS names.
bubble_hex <- function(col) {
    if (is.na(col) || identical(col, "transparent")) return("transparent")
    if (grepl("^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$", col)) return(col)
    v <- grDevices::col2rgb(col, alpha = TRUE)
    if (v[4] == 255) sprintf("#%02X%02X%02X", v[1], v[2], v[3])
    else sprintf("#%02X%02X%02X%02X", v[1], v[2], v[3], v[4])
}

# Hex colours in upper case, "#RRGGBBFF" as "#RRGGBB".
bubble_opaque <- function(cols) {
    sub("^(#[0-9A-F]{6})FF$", "\\1", toupper(cols))
}

# "layer 2, geom_smooth()": how errors name a layer.
bubble_layer_name <- function(l, i) {
    call <- l$constructor
    txt <- if (is.call(call)) {
        s <- paste(deparse(call, width.cutoff = 60L), collapse = " ")
        if (nchar(s) > 60) paste0(sub("\\(.*$", "", s), "(...)") else s
    } else {
        cls <- sub("^Geom", "", class(l$geom)[1])
        paste0("geom_", tolower(gsub("([a-z0-9])([A-Z])", "\\1_\\2", cls)), "()")
    }
    sprintf("layer %d, %s", i, txt)
}

bubble_ggproto_name <- function(x, prefix) {
    cls <- sub(paste0("^", tools::toTitleCase(prefix)), "", class(x)[1])
    paste0(prefix, "_", tolower(gsub("([a-z0-9])([A-Z])", "\\1_\\2", cls)), "()")
}

# The layer's mapping with the plot's inherited.
bubble_layer_mapping <- function(l, p) {
    m <- unclass(l$mapping) %||% list()
    if (isTRUE(l$inherit.aes)) {
        for (a in setdiff(names(p$mapping), names(m))) m[[a]] <- p$mapping[[a]]
    }
    m
}

bubble_expr_text <- function(q) paste(deparse(rlang::quo_get_expr(q)), collapse = "")

# after_stat(), after_scale(), stage(), stat() or ..count.. in a mapping
bubble_uses_stat <- function(q) {
    e <- rlang::quo_get_expr(q)
    calls <- setdiff(all.names(e), all.vars(e))
    any(calls %in% c("after_stat", "after_scale", "stage", "stat")) ||
        any(grepl("^\\.\\..+\\.\\.$", all.vars(e)))
}

# The plot's theme as ggplot2 draws it: a complete theme, or the
# modifications added to theme_get().
bubble_effective_theme <- function(p) {
    th <- p$theme
    if (length(th) == 0) return(ggplot2::theme_get())
    if (isTRUE(attr(th, "complete"))) th else ggplot2::theme_get() + th
}

# Which of the server's themes (gray, minimal, classic, dark) the plot's
# theme is, with its base size and family and its legend position.
# Anything else in the theme is a difference the server cannot draw.
bubble_theme_match <- function(p) {
    eff <- bubble_effective_theme(p)
    size <- eff$text$size %||% 11
    family <- eff$text$family %||% ""
    makers <- list(gray = ggplot2::theme_gray, minimal = ggplot2::theme_minimal,
                   classic = ggplot2::theme_classic, dark = ggplot2::theme_dark)
    diff_of <- function(cand) {
        cand$legend.position <- eff$legend.position
        nm <- union(names(eff), names(cand))
        nm[!vapply(nm, function(n) identical(eff[[n]], cand[[n]]), TRUE)]
    }
    best <- NULL
    for (t in names(makers)) {
        # theme_minimal(base_size = 13), or theme_minimal() +
        # theme(text = element_text(size = 13))
        cands <- list(makers[[t]](base_size = size, base_family = family),
                      makers[[t]]() + ggplot2::theme(
                          text = ggplot2::element_text(size = size, family = family)))
        for (cand in cands) {
            d <- diff_of(cand)
            if (is.null(best) || length(d) < length(best$diff)) {
                best <- list(theme = t, diff = d)
            }
        }
    }
    pos <- eff$legend.position
    list(theme = best$theme, diff = best$diff, size = size, family = family,
         legend = if (is.character(pos) && length(pos) == 1) pos else NA_character_)
}

# What the server cannot draw of a ggplot: one string per layer, scale or
# setting, naming it.
bubble_ggplot_problems <- function(p, b) {
    out <- character()
    add <- function(...) out <<- c(out, paste0(...))

    kinds <- vapply(p$layers, function(l) {
        g <- class(l$geom)[1]
        if (g == "GeomPoint") "point" else if (g == "GeomText") "text" else "other"
    }, "")
    points <- which(kinds == "point")
    if (length(points) == 0) {
        add("the plot has no geom_point() layer: ngx_bubble draws one geom_point() ",
            "layer (and geom_text() labels of its points)")
    }
    pl <- if (length(points)) p$layers[[points[1]]]
    pmap <- if (!is.null(pl)) bubble_layer_mapping(pl, p) else list()
    for (i in seq_along(p$layers)) {
        l <- p$layers[[i]]
        name <- bubble_layer_name(l, i)
        if (kinds[i] == "other") {
            add(name, ": only geom_point() and geom_text() labels are drawn")
            next
        }
        if (kinds[i] == "point" && i != points[1]) {
            add(name, ": a second geom_point() layer; ngx_bubble draws one")
            next
        }
        if (class(l$stat)[1] != "StatIdentity") {
            add(name, ": its stat, ", bubble_ggproto_name(l$stat, "stat"),
                ", is not drawn (only stat_identity())")
        }
        if (class(l$position)[1] != "PositionIdentity") {
            add(name, ": its position, ", bubble_ggproto_name(l$position, "position"),
                ", is not drawn (only position_identity())")
        }
        m <- bubble_layer_mapping(l, p)
        for (a in names(m)) {
            if (bubble_uses_stat(m[[a]])) {
                add(name, ": the ", a, " aesthetic uses after_stat()/after_scale()/stage()")
            }
        }
        if (kinds[i] == "point") {
            bad <- setdiff(names(m), c("x", "y", "size", "colour", "fill", "group", "label"))
            for (a in bad) {
                add(name, ": the ", a, " aesthetic is mapped; ngx_bubble maps x, y, ",
                    "size and colour (or fill)")
            }
            if (!is.null(m$colour) && !is.null(m$fill) &&
                bubble_expr_text(m$colour) != bubble_expr_text(m$fill)) {
                add(name, ": colour and fill map different variables; ngx_bubble ",
                    "has one colour scale")
            }
            ap <- l$aes_params
            for (k in setdiff(names(ap), c("alpha", "colour", "fill", "size", "shape",
                                          "stroke"))) {
                add(name, ": ", k, " = ", format(ap[[k]]), " is not drawn")
            }
            shape <- ap$shape %||% 19
            if (is.character(shape)) {
                shape <- c("circle" = 19, "circle filled" = 21, "circle small" = 20)[shape]
            }
            if (length(shape) != 1 || is.na(shape) || !(shape %in% c(16, 19, 20, 21))) {
                add(name, ": shape = ", format(ap$shape), "; ngx_bubble draws filled ",
                    "circles (shapes 16, 19, 20, 21)")
            }
        } else {
            if (sum(kinds == "text") > 1 && i != which(kinds == "text")[1]) {
                add(name, ": a second geom_text() layer; ngx_bubble draws one label ",
                    "per bubble")
                next
            }
            if (is.null(m$label)) {
                add(name, ": geom_text() without a label aesthetic")
            }
            same_xy <- !is.null(pl) && all(vapply(c("x", "y"), function(a) {
                !is.null(m[[a]]) && !is.null(pmap[[a]]) &&
                    bubble_expr_text(m[[a]]) == bubble_expr_text(pmap[[a]])
            }, TRUE))
            same_data <- !is.null(pl) &&
                identical(l$layer_data(p$data), pl$layer_data(p$data))
            if (!same_xy || !same_data) {
                add(name, ": text that does not label the geom_point() bubbles ",
                    "(other data or positions, such as annotate())")
            }
            for (a in setdiff(names(m), c("x", "y", "label", "group"))) {
                add(name, ": the ", a, " aesthetic of labels is not drawn")
            }
            for (k in names(l$aes_params)) {
                add(name, ": ", k, " = ", format(l$aes_params[[k]]), "; labels are ",
                    "drawn in the base font at 0.8 x its size, next to their bubble")
            }
            if (isTRUE(l$geom_params$parse)) {
                add(name, ": parse = TRUE (plotmath) is not drawn")
            }
        }
    }

    # coordinates and facets
    co <- p$coordinates
    if (class(co)[1] != "CoordCartesian") {
        add("the coordinates, ", bubble_ggproto_name(co, "coord"),
            ", are not drawn (only coord_cartesian())")
    } else {
        if (!is.null(co$limits$x) || !is.null(co$limits$y)) {
            add("coord_cartesian() with xlim/ylim: set the scale's limits instead")
        }
        if (!isTRUE(co$expand)) add("coord_cartesian(expand = FALSE) is not drawn")
    }
    fa <- p$facet
    if (inherits(fa, "FacetWrap")) {
        fp <- fa$params
        if (length(fp$facets) != 1) {
            add("facet_wrap() of ", length(fp$facets), " variables: ngx_bubble ",
                "wraps one")
        }
        if (isTRUE(fp$free$x) || isTRUE(fp$free$y)) {
            add("facet_wrap(scales = \"free...\"): panels share their scales")
        }
        if (!is.null(fp$nrow)) add("facet_wrap(nrow = ", fp$nrow, "): give ncol")
        if (!identical(fp$dir, "h")) add("facet_wrap(dir = \"", fp$dir, "\")")
        if (!isTRUE(fp$as.table)) add("facet_wrap(as.table = FALSE)")
        if (!identical(fp$strip.position, "top")) {
            add("facet_wrap(strip.position = \"", fp$strip.position, "\")")
        }
        if (!identical(fp$labeller, ggplot2::label_value) &&
            !identical(fp$labeller, "label_value")) {
            add("facet_wrap(labeller = ...): strips show the values")
        }
        if (length(fp$facets) == 1 && !is.null(pl)) {
            fv <- tryCatch(rlang::eval_tidy(fp$facets[[1]], pl$layer_data(p$data)),
                           error = function(e) NULL)
            if (is.factor(fv) && !identical(levels(fv), sort(levels(fv)))) {
                add("facet_wrap(): a factor whose levels are not in sorted order; ",
                    "ngx_bubble orders panels by sorted value")
            }
        }
    } else if (!inherits(fa, "FacetNull")) {
        add("the facets, ", bubble_ggproto_name(fa, "facet"),
            ", are not drawn (only facet_wrap() of one variable)")
    }

    # scales
    for (sc in b$plot$scales$scales) {
        a <- sc$aesthetics[1]
        what <- sprintf("the %s scale", a)
        pos <- a %in% c("x", "y")
        if (!(pos || a %in% c("size", "colour", "fill"))) next
        if (inherits(sc, "ScaleBinned")) {
            add(what, ": binned scales are not drawn")
            next
        }
        if (inherits(sc, c("ScaleContinuousIdentity", "ScaleDiscreteIdentity"))) {
            add(what, ": identity scales are not drawn")
            next
        }
        if (pos && inherits(sc, "ScaleDiscrete")) {
            add(what, " is discrete: ngx_bubble draws numeric x and y")
            next
        }
        if (a == "size" && inherits(sc, "ScaleDiscrete")) {
            add(what, " is discrete: size maps numbers")
            next
        }
        if (inherits(sc, "ScaleContinuous")) {
            tname <- sc$trans$name
            ok <- if (pos) c("identity", "log-10", "sqrt", "reverse") else "identity"
            if (!(tname %in% ok)) {
                add(what, ": the ", tname, " transformation is not drawn (",
                    if (pos) "identity, log10, sqrt, reverse" else "identity only", ")")
            }
            if (!identical(bubble_inner(sc$oob), scales::censor)) {
                add(what, ": oob = other than scales::censor is not drawn")
            }
            if (a %in% c("colour", "fill") &&
                !identical(bubble_inner(sc$rescaler), scales::rescale)) {
                add(what, ": its rescaler (such as scale_colour_gradient2()'s midpoint) ",
                    "is not drawn; colours run from the lowest to the highest value")
            }
        }
        if (pos) {
            if (!bubble_is_waiver(sc$secondary.axis)) add(what, ": sec.axis is not drawn")
            if (!identical(sc$position, if (a == "x") "bottom" else "left")) {
                add(what, ": position = \"", sc$position, "\" is not drawn")
            }
            if (!bubble_is_waiver(sc$expand)) add(what, ": expand = ... is not drawn")
            if (!bubble_is_waiver(sc$minor_breaks)) {
                add(what, ": minor_breaks = ... is not drawn")
            }
            if (is.null(sc$breaks)) add(what, ": breaks = NULL is not drawn")
            if (is.null(sc$labels)) add(what, ": labels = NULL is not drawn")
            if (!bubble_is_waiver(sc$guide) && !identical(sc$guide, "axis")) {
                add(what, ": guide = ... is not drawn")
            }
        } else {
            if (!bubble_is_waiver(sc$labels)) {
                add(what, ": labels = ... in the legend are not drawn")
            }
            if (a != "size" && !bubble_is_waiver(sc$breaks)) {
                add(what, ": breaks = ... in the colour legend are not drawn")
            }
            if (a == "size") {
                e <- environment(bubble_inner(sc$palette))
                if (is.null(e) || (is.null(e$max) && is.null(e$range))) {
                    add(what, ": its palette is not one of scale_size(), ",
                        "scale_size_area(), scale_radius()")
                }
            }
            g <- sc$guide
            if (!bubble_is_waiver(g) && !(is.character(g) && g %in%
                    c("legend", "colourbar", "colorbar", "none"))) {
                add(what, ": guide = ... is not drawn")
            }
        }
    }
    hidden <- character()
    legends <- intersect(names(pmap), c("size", "colour", "fill"))
    for (a in legends) {
        sc <- b$plot$scales$get_scales(a)
        if (!is.null(sc) && identical(sc$guide, "none")) hidden <- c(hidden, a)
    }
    if (length(hidden) && length(hidden) < length(legends) &&
        !(length(legends) == 2 && all(c("colour", "fill") %in% legends)) &&
        !isFALSE(pl$show.legend)) {
        add("guide = \"none\" for the ", paste(hidden, collapse = " and "),
            " legend only: ngx_bubble shows or hides its legends together")
    }
    if (length(p$guides)) {
        add("guides(...) is not drawn (legends are placed by legend.position)")
    }

    labs <- p$labels
    if (!is.null(labs$tag)) add("labs(tag = ...) is not drawn")
    for (k in c("title", "subtitle", "caption")) {
        if (!is.null(labs[[k]]) && !is.character(labs[[k]])) {
            add("labs(", k, " = ...) is an expression (plotmath), not drawn")
        }
    }

    th <- bubble_theme_match(p)
    if (length(th$diff)) {
        shown <- utils::head(th$diff, 6)
        add("the theme: ngx_bubble draws theme_gray(), theme_minimal(), ",
            "theme_classic() and theme_dark() with a base size and family and a ",
            "legend.position; this one differs from theme_", th$theme, "() in ",
            paste(shown, collapse = ", "),
            if (length(th$diff) > length(shown)) sprintf(" and %d more",
                                                         length(th$diff) - length(shown)))
    }
    if (is.na(th$legend) || !(th$legend %in% c("right", "left", "top", "bottom", "none"))) {
        add("theme(legend.position = ...) inside the panel is not drawn ",
            "(right, left, top, bottom, none)")
    }
    out
}

bubble_unsupported <- function(problems, strict) {
    msg <- paste0("ngx_bubble cannot draw this ggplot as ggplot2 would:\n",
                  paste0("* ", problems, collapse = "\n"))
    if (strict) {
        stop(structure(class = c("bubble_unsupported", "error", "condition"),
                       list(message = paste0(msg, "\n(ggplot2::ggsave() draws it in R)"),
                            call = NULL, problems = problems)))
    }
    warning(structure(class = c("bubble_unsupported_warning", "warning", "condition"),
                      list(message = paste0(msg, "\nDrawn without them (strict = FALSE)."),
                           call = NULL, problems = problems)))
}

# The colours of a discrete scale's palette for its categories, as a
# palette name when it is one the server knows.
bubble_discrete_palette <- function(sc, n) {
    cols <- sc$palette(n)
    if (!is.null(names(cols)) && !is.null(sc$get_limits())) {
        lim <- sc$get_limits()
        if (all(lim %in% names(cols))) cols <- cols[lim]
    }
    cols <- bubble_opaque(vapply(unname(cols), bubble_hex, "", USE.NAMES = FALSE))
    same <- function(ref) length(ref) == n && identical(cols, bubble_opaque(ref))
    if (same(scales::hue_pal()(n))) return("hue")
    if (n <= 8) {
        for (b in c("Set2", "Dark2")) {
            if (same(suppressWarnings(scales::brewer_pal(palette = b)(n)))) return(tolower(b))
        }
    }
    for (o in c("viridis", "magma", "plasma", "inferno", "cividis")) {
        if (same(scales::viridis_pal(option = o)(n))) return(o)
    }
    I(cols)
}

# A continuous colour scale's palette: a viridis name when it is one, else
# 16 samples of it (ggplot2 interpolates in Lab space; the server blends
# between the samples).
bubble_continuous_palette <- function(sc) {
    f <- bubble_inner(sc$palette)
    e <- environment(f)
    if (!is.null(e) && exists("colours", envir = e, inherits = FALSE) &&
        is.null(e$values)) {
        cols <- bubble_opaque(vapply(e$colours, bubble_hex, "", USE.NAMES = FALSE))
        for (o in c("viridis", "magma", "plasma", "inferno", "cividis")) {
            if (identical(cols, bubble_opaque(scales::viridis_pal(option = o)(6)))) return(o)
        }
    }
    I(bubble_opaque(sc$palette(seq(0, 1, length.out = 16))))
}

# sc: the panel's position scale; view: its view scale in panel_params
# (the breaks and labels ggplot2 draws).
bubble_axis <- function(sc, view, title) {
    a <- list(title = title)
    if (is.null(sc)) {
        return(a)
    }
    tname <- sc$trans$name
    if (identical(tname, "log-10")) {
        a$scale <- "log10"
    } else if (identical(tname, "sqrt")) {
        a$scale <- "sqrt"
    }
    if (!is.null(sc$limits)) {
        # the trained limits: NA ends and limit functions filled in
        lim <- sort(sc$trans$inverse(sc$get_limits()))
        if (length(lim) == 2 && all(is.finite(lim))) a$limits <- lim
    }
    computed <- !is.null(sc$n.breaks) || is.function(sc$breaks)
    if (is.numeric(sc$breaks)) {
        a$breaks <- sc$breaks
    }
    if (is.character(sc$labels) || is.function(sc$labels) || computed) {
        # the breaks ggplot2 draws and their labels
        br <- view$get_breaks()
        lab <- view$get_labels()
        keep <- !is.na(br) & !is.na(lab)
        a$breaks <- sc$trans$inverse(br[keep])
        if (!bubble_is_waiver(sc$labels)) a$labels <- I(as.character(lab[keep]))
    }
    if (identical(tname, "reverse")) a$reverse <- TRUE
    a
}

#' A spec from a ggplot
#'
#' Converts a ggplot made of one `geom_point()` layer (plus `geom_text()`
#' labels of its points) into a spec that ngx_bubble draws the way
#' ggplot2 would. What converts:
#'
#' * aesthetics `x`, `y`, `size`, `colour` (or `fill`), and `label` from
#'   `geom_text()`; fixed `alpha`, `colour`, `fill`, `size`, `stroke` and
#'   shapes 16, 19, 20 and 21 (filled circles, 21 with an outline);
#' * position scales: continuous, with the identity, log10, sqrt or
#'   reverse transformation, limits, breaks and labels (a labelling
#'   function is applied in R: the labels ggplot2 would draw are sent);
#' * size scales: `scale_size_area()` is an `"area"` scale,
#'   `scale_radius()` a `"radius"` scale, the default `scale_size()` an
#'   `"area"` scale of the same largest bubble; a ggplot2 size of `s` mm
#'   is a radius of `s * .pt / 2` px;
#' * colour scales: discrete ones (hue, brewer, viridis, manual and any
#'   other palette, sent as its colours) and continuous ones (viridis,
#'   gradients, sent as 16 colours);
#' * `labs()` (title, subtitle, caption, axis and legend titles),
#'   `facet_wrap()` of one variable (with `ncol`), and `theme_gray()`,
#'   `theme_minimal()`, `theme_classic()` or `theme_dark()` with a base
#'   size and family and `theme(legend.position = ...)`.
#'
#' Anything else (another layer, a stat or position, `coord_flip()`, a
#' secondary axis, a binned scale, a theme element changed, ...) is not
#' dropped silently: with `strict = TRUE` (the default) the conversion
#' stops with one error of class `bubble_unsupported` that names every
#' layer, scale or setting the server cannot draw (its `problems` field
#' lists them); with `strict = FALSE` that is a warning and the chart is
#' drawn without them.
#'
#' @param p a ggplot.
#' @param width,height the canvas in CSS pixels (96 per inch).
#' @param scale the device pixel ratio (1 to 4): a PNG has `width *
#'   scale` x `height * scale` pixels; `NULL` leaves it out (1).
#' @param tooltip a vector of hover texts, one per row of the data, shown
#'   in the SVG.
#' @param strict stop (`TRUE`) or warn (`FALSE`) when the plot uses
#'   something the server cannot draw; the option `ngxbubble.strict` sets
#'   the default. ([bubble_ggsave()] is always strict.)
#' @return a spec (named list).
#' @seealso [bubble_ggsave()], which converts and saves in one call.
#' @examples
#' library(ggplot2)
#' p <- ggplot(mtcars, aes(wt, mpg, size = hp, colour = factor(cyl))) +
#'     geom_point(alpha = 0.7) + scale_y_log10() +
#'     labs(title = "Motor Trend cars", colour = "cylinders") + theme_minimal()
#' spec <- bubble_from_ggplot(p, width = 700, height = 500)
#' str(spec[c("theme", "mapping", "y")])
#'
#' # what the server cannot draw is an error naming it
#' q <- p + geom_smooth() + coord_flip()
#' tryCatch(bubble_from_ggplot(q), bubble_unsupported = function(e) e$problems)
#' @export
bubble_from_ggplot <- function(p, width = 800L, height = 600L, scale = NULL,
                               tooltip = NULL,
                               strict = getOption("ngxbubble.strict", TRUE)) {
    if (!inherits(p, "ggplot")) {
        stop("bubble_from_ggplot: p is not a ggplot", call. = FALSE)
    }
    b <- ggplot2::ggplot_build(p)
    problems <- bubble_ggplot_problems(p, b)
    if (length(problems)) {
        bubble_unsupported(problems, strict)
    }

    points <- Filter(function(l) class(l$geom)[1] == "GeomPoint", p$layers)
    texts <- Filter(function(l) class(l$geom)[1] == "GeomText", p$layers)
    if (length(points) == 0) {
        stop("bubble_from_ggplot: the plot has no geom_point() layer", call. = FALSE)
    }
    pl <- points[[1]]
    data <- pl$layer_data(p$data)
    if (!is.data.frame(data)) {
        stop("bubble_from_ggplot: the plot has no data.frame", call. = FALSE)
    }
    mapping <- bubble_layer_mapping(pl, p)
    if (length(texts)) {
        tm <- bubble_layer_mapping(texts[[1]], p)
        if (!is.null(tm$label)) mapping$label <- tm$label
    } else {
        mapping$label <- NULL
    }
    if (!is.null(mapping$fill) && is.null(mapping$colour)) {
        mapping$colour <- mapping$fill
    }
    known <- c("x", "y", "size", "colour", "label")
    mapping <- mapping[intersect(known, names(mapping))]

    cols <- list()
    spec_map <- list()
    for (a in names(mapping)) {
        q <- mapping[[a]]
        name <- rlang::as_label(q)
        v <- rlang::eval_tidy(q, data)
        if (length(v) == 1) v <- rep(v, nrow(data))
        cols[[name]] <- v
        spec_map[[if (a == "colour") "color" else a]] <- name
    }
    for (a in c("x", "y")) {
        if (is.null(spec_map[[a]])) {
            stop("bubble_from_ggplot: ", a, " is not mapped", call. = FALSE)
        }
    }
    spec <- list(width = as.integer(width), height = as.integer(height))
    if (!is.null(scale)) spec$scale <- scale

    labs <- b$plot$labels
    for (k in c("title", "subtitle", "caption")) {
        if (!is.null(labs[[k]])) spec[[k]] <- as.character(labs[[k]])
    }
    th <- bubble_theme_match(p)
    spec$theme <- th$theme
    font <- list()
    if (nzchar(th$family)) font$family <- th$family
    if (th$size != 11) font$size <- th$size
    if (length(font)) spec$font <- font

    # facet_wrap(~ v): the facet's values become a column
    facet <- NULL
    if (inherits(p$facet, "FacetWrap")) {
        fq <- p$facet$params$facets
        fname <- names(fq)[1]
        fv <- rlang::eval_tidy(fq[[1]], data)
        cols[[fname]] <- fv
        facet <- list(wrap = fname)
        if (!is.null(p$facet$params$ncol)) facet$ncol <- as.integer(p$facet$params$ncol)
    }

    data_out <- list()
    for (n in names(cols)) {
        data_out[[n]] <- bubble_column(cols[[n]], n)
    }
    spec$data <- data_out
    spec$mapping <- spec_map
    if (!is.null(facet)) spec$facet <- facet

    sc_of <- function(a) b$plot$scales$get_scales(a)
    title_of <- function(a, sc) {
        nm <- if (!is.null(sc) && !bubble_is_waiver(sc$name)) sc$name else labs[[a]]
        if (is.null(nm)) "" else as.character(nm)
    }
    pp <- b$layout$panel_params[[1]]
    xs <- b$layout$panel_scales_x[[1]]
    ys <- b$layout$panel_scales_y[[1]]
    spec$x <- bubble_axis(xs, pp$x, title_of("x", xs))
    spec$y <- bubble_axis(ys, pp$y, title_of("y", ys))

    # geom_point's fixed look
    ap <- pl$aes_params
    spec$alpha <- if (!is.null(ap$alpha) && !is.na(ap$alpha)) ap$alpha else 1
    hidden <- character()
    if (!is.null(spec_map$size)) {
        ss <- sc_of("size")
        s <- list(title = title_of("size", ss))
        e <- environment(bubble_inner(ss$palette))
        px <- ggplot2::.pt / 2                       # size mm -> radius px
        if (identical(ss$scale_name, "radius")) {
            s$type <- "radius"
            s$range <- e$range * px
        } else if (!is.null(e$max)) {
            s$range <- c(0, e$max * px)
        } else if (!is.null(e$range)) {
            s$range <- c(e$range[1], e$range[2]) * px
        }
        if (!is.null(ss$limits)) s$limits <- ss$get_limits()
        if (is.numeric(ss$breaks)) {
            s$breaks <- ss$breaks
        } else if (is.function(ss$breaks) || !is.null(ss$n.breaks)) {
            br <- ss$get_breaks()
            s$breaks <- br[!is.na(br)]
        }
        if (identical(ss$guide, "none")) hidden <- c(hidden, "size")
        spec$size <- s
    } else {
        # unmapped: every bubble gets the range's max
        r <- (ap$size %||% ggplot2::GeomPoint$default_aes$size) * ggplot2::.pt / 2
        spec$size <- list(range = c(0, r))
    }
    if (!is.null(spec_map$color)) {
        cs <- sc_of("colour") %||% sc_of("fill")
        col <- list(title = title_of(if (!is.null(sc_of("colour"))) "colour" else "fill", cs))
        if (is.null(cs) || inherits(cs, "ScaleDiscrete")) {
            lim <- as.character(cs$get_limits())
            col$type <- "categorical"
            col$limits <- I(lim)
            col$palette <- bubble_discrete_palette(cs, length(lim))
        } else {
            col$type <- "continuous"
            col$palette <- bubble_continuous_palette(cs)
            if (!is.null(cs$limits)) col$limits <- cs$get_limits()
        }
        if (identical(cs$guide, "none")) hidden <- c(hidden, "colour")
        spec$color <- col
    } else {
        spec$color <- list(value = bubble_hex(ap$colour %||% ap$fill %||% "black"))
    }
    shape <- ap$shape %||% 19
    if (identical(shape, 21) || identical(shape, "circle filled")) {
        spec$stroke <- list(color = bubble_hex(ap$colour %||% "black"),
                            width = (ap$stroke %||% 0.5) * ggplot2::.stroke / 2)
        if (is.null(spec_map$color)) spec$color <- list(value = bubble_hex(ap$fill %||% "black"))
    }
    if (identical(shape, 20) || identical(shape, "circle small")) {
        # shape 20 is drawn at two thirds of the size
        spec$size$range <- spec$size$range * 2 / 3
    }

    legends <- c(if (!is.null(spec_map$size)) "size", if (!is.null(spec_map$color)) "colour")
    pos <- th$legend
    if (isFALSE(pl$show.legend) || (length(legends) && all(legends %in% hidden))) {
        pos <- "none"
    }
    if (is.character(pos) && !is.na(pos) && pos != "right") spec$legend <- list(position = pos)
    if (!is.null(tooltip)) {
        spec$data[["tooltip"]] <- bubble_column(tooltip, "tooltip")
        spec$mapping$tooltip <- "tooltip"
    }
    spec
}
