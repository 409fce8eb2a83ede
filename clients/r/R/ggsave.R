#' Save a ggplot, drawn by ngx_bubble
#'
#' [ggplot2::ggsave()] with the same arguments and defaults, but the chart
#' is drawn by an ngx_bubble server, not by R: swap `ggsave` for
#' `bubble_ggsave` in a script (and set the server once, see
#' [bubble_server()]). The plot is converted by [bubble_from_ggplot()];
#' where it uses something the server cannot draw (another layer, a stat,
#' a coordinate system, a changed theme element, ...) `bubble_ggsave()`
#' stops with one error of class `bubble_unsupported` naming each of them,
#' and writes nothing. It never draws a different chart silently.
#'
#' Sizes are ggsave's: `width` and `height` in `units`, times `scale`;
#' when they are missing, the size of the open graphics device, or 7 x 7
#' inches. The canvas is `width` x `height` inches at 96 CSS pixels per
#' inch, drawn at `dpi / 96` device pixels per CSS pixel, so that text,
#' points and lines have ggplot2's sizes: a PNG of `width = 7, height =
#' 5, dpi = 100` has 700 x 500 pixels, as ggsave's. A PDF page is
#' `width` x `height` inches; an SVG `width * 96` x `height * 96` pixels.
#' The server draws PNGs at 96 to 384 dpi (its `scale` of 1 to 4); other
#' values of `dpi` are an error.
#'
#' The format comes from `device`, else from the file's extension: `png`,
#' `svg` or `pdf`. Rows that the server leaves out (a missing `x`, `y` or
#' `size`, a value that is not positive on a log scale) give ggplot2's
#' "Removed N rows" warning.
#'
#' @param filename file to create on disk.
#' @param plot the plot to save, by default the last plot displayed.
#' @param device `NULL` (from the extension), or `"png"`, `"svg"`, `"pdf"`.
#' @param path directory to save the plot in (`path` and `filename` are
#'   combined).
#' @param scale multiplicative scaling factor of the size.
#' @param width,height plot size in `units`; `NA`: the size of the
#'   current graphics device, or 7 inches.
#' @param units one of `"in"`, `"cm"`, `"mm"`, `"px"`.
#' @param dpi plot resolution: a number, or `"screen"` (72), `"print"`
#'   (300), `"retina"` (320).
#' @param limitsize when `TRUE`, sizes of 50 inches and more are refused.
#' @param bg background colour; `NULL` takes the theme's.
#' @param ... for a graphics device in ggsave; here only `type` (PNG
#'   backends: the server draws with cairo) is accepted, anything else is
#'   an error rather than ignored.
#' @param server URL of a location with `bubble;` (see [bubble_server()]).
#' @param secret the location's `bubble_url_secret`, or `NULL`.
#' @return the file name, invisibly (as ggsave).
#' @seealso [bubble_from_ggplot()] for what converts; [bubble_png()].
#' @examples
#' library(ggplot2)
#' p <- ggplot(midwest, aes(area, poptotal, size = popdensity, colour = state)) +
#'     geom_point(alpha = 0.6) + scale_y_log10()
#' if (bubble_available()) {
#'     f <- tempfile(fileext = ".png")
#'     bubble_ggsave(f, p, width = 7, height = 5, dpi = 100)
#'     bubble_png_size(f)
#'
#'     bubble_ggsave(tempfile(fileext = ".svg"), p, width = 7, height = 5)
#' }
#' @export
bubble_ggsave <- function(filename, plot = last_plot(), device = NULL, path = NULL,
                          scale = 1, width = NA, height = NA,
                          units = c("in", "cm", "mm", "px"), dpi = 300,
                          limitsize = TRUE, bg = NULL, ...,
                          server = bubble_server(), secret = bubble_secret()) {
    if (is.null(plot)) {
        stop("bubble_ggsave: there is no plot to save (last_plot() is NULL)", call. = FALSE)
    }
    if (!inherits(plot, "ggplot")) {
        stop("bubble_ggsave: plot must be a ggplot, not ", class(plot)[1], call. = FALSE)
    }
    extra <- list(...)
    bad <- setdiff(names(extra) %||% rep("", length(extra)), "type")
    if (length(bad)) {
        stop("bubble_ggsave: ", paste0("`", ifelse(nzchar(bad), bad, "..."), "`", collapse = ", "),
             ": arguments for a graphics device; the chart is drawn by ngx_bubble, ",
             "which takes none of them", call. = FALSE)
    }
    format <- bubble_ggsave_format(filename, device)
    dpi <- bubble_parse_dpi(dpi)
    units <- match.arg(units)
    dim <- bubble_plot_dim(c(width, height), scale = scale, units = units,
                           limitsize = limitsize, dpi = dpi)
    css <- round(dim * 96)
    if (any(css < 16)) {
        stop(sprintf("bubble_ggsave: %s x %s in is smaller than the 16 px ngx_bubble draws",
                     format(dim[1], digits = 3), format(dim[2], digits = 3)), call. = FALSE)
    }
    px_scale <- NULL
    if (format == "png") {
        px_scale <- dpi / 96
        if (px_scale < 1 || px_scale > 4) {
            stop(sprintf(paste0("bubble_ggsave: dpi = %s; ngx_bubble draws PNGs at 96 to ",
                                "384 dpi (its scale of 1 to 4)"), format(dpi)), call. = FALSE)
        }
        if (px_scale == 1) px_scale <- NULL
    }
    spec <- bubble_from_ggplot(plot, width = css[1], height = css[2], scale = px_scale,
                               strict = TRUE)
    if (!is.null(bg)) {
        spec$background <- bubble_hex(bg)
    }
    if (!is.null(path)) {
        filename <- file.path(path, filename)
    }
    r <- bubble_fetch(spec, server, format, secret = secret)
    writeBin(r$body, filename)
    if (isTRUE(r$dropped_rows > 0)) {
        warning(sprintf("Removed %d rows containing missing values or values outside the scale range.",
                        r$dropped_rows), call. = FALSE)
    }
    invisible(filename)
}

bubble_ggsave_format <- function(filename, device) {
    if (is.function(device)) {
        stop("bubble_ggsave: device is a function; the chart is drawn by ngx_bubble: ",
             "give \"png\", \"svg\" or \"pdf\"", call. = FALSE)
    }
    format <- if (is.null(device)) tolower(tools::file_ext(filename)) else tolower(device)
    if (identical(format, "")) {
        stop("bubble_ggsave: `filename` has no file extension and `device` is NULL",
             call. = FALSE)
    }
    if (!(format %in% c("png", "svg", "pdf"))) {
        stop(sprintf("bubble_ggsave: ngx_bubble draws png, svg and pdf, not %s", format),
             call. = FALSE)
    }
    format
}

# ggsave's dpi: a number, or "screen", "print", "retina".
bubble_parse_dpi <- function(dpi) {
    if (is.character(dpi) && length(dpi) == 1) {
        switch(dpi, screen = 72, print = 300, retina = 320,
               stop("bubble_ggsave: unknown dpi string ", dpi,
                    " (screen, print or retina)", call. = FALSE))
    } else if (is.numeric(dpi) && length(dpi) == 1) {
        dpi
    } else {
        stop("bubble_ggsave: dpi must be a single number or string", call. = FALSE)
    }
}

# ggsave's size in inches: units, scale, the open device's size for NA,
# and the 50-inch limit.
bubble_plot_dim <- function(dim, scale, units, limitsize, dpi) {
    per_inch <- c("in" = 1, cm = 2.54, mm = 25.4, px = dpi)[[units]]
    dim <- dim / per_inch * scale
    if (anyNA(dim)) {
        default <- if (length(grDevices::dev.list()) == 0) c(7, 7)
                   else grDevices::dev.size() * scale
        dim[is.na(dim)] <- default[is.na(dim)]
        shown <- prettyNum(dim * per_inch, digits = 3)
        message(sprintf("Saving %s x %s %s image", shown[1], shown[2], units))
    }
    if (limitsize && any(dim >= 50)) {
        stop("bubble_ggsave: dimensions exceed 50 inches (`width` and `height` are in ",
             switch(units, "in" = "inches", cm = "centimeters", mm = "millimeters",
                    px = "pixels"),
             "); use limitsize = FALSE for a plot that big", call. = FALSE)
    }
    dim
}
