#!/usr/bin/env Rscript
#
# Peer benchmark: the same spec drawn by R's ggplot2, in one warm process.
#
#   Rscript tests/bench/peer_ggplot2.R SPEC.json SECONDS [ragg|cairo] [OUT.png]
#
# Each iteration does what one ngx_bubble request does: parse the JSON spec
# (jsonlite), build the plot (points with alpha, size as area, colour,
# labels with check_overlap like our label placement, log10 x when asked,
# titles) and write a PNG of width*scale x height*scale pixels at 96*scale
# dpi.  Device: ragg::agg_png (ggsave's default when ragg is installed, and
# the fastest R has) or png(type = "cairo").  The first render is a warm-up
# and is not counted.  Prints one line:
#
#   peer=ggplot2 device=ragg spec=... charts=N ms_median=.. ms_mean=..
#     cpu_ms=.. charts_per_s=..

suppressPackageStartupMessages({
    library(jsonlite)
    library(ggplot2)
})

args <- commandArgs(trailingOnly = TRUE)
if (length(args) < 2) {
    stop("usage: peer_ggplot2.R SPEC.json SECONDS [ragg|cairo] [OUT.png]")
}

spec_file <- args[1]
seconds <- as.numeric(args[2])
device <- if (length(args) >= 3) args[3] else "ragg"
out <- if (length(args) >= 4) args[4] else tempfile(fileext = ".png")

if (device == "ragg") {
    suppressPackageStartupMessages(library(ragg))
}

text <- paste(readLines(spec_file, warn = FALSE), collapse = "\n")

render <- function() {
    spec <- fromJSON(text, simplifyVector = TRUE)
    df <- as.data.frame(spec$data, stringsAsFactors = FALSE)

    m <- if (is.null(spec$mapping)) list() else spec$mapping
    col <- function(aes, default) {
        name <- if (!is.null(m[[aes]])) m[[aes]] else default
        if (!is.null(name) && name %in% names(df)) name else NULL
    }
    x <- col("x", "x"); y <- col("y", "y"); size <- col("size", "size")
    colour <- col("color", "color"); label <- col("label", "label")

    a <- aes(x = .data[[x]], y = .data[[y]])
    if (!is.null(size)) a$size <- quo(.data[[size]])
    if (!is.null(colour)) a$colour <- quo(.data[[colour]])

    p <- ggplot(df, a) + geom_point(alpha = 0.7)

    if (!is.null(label)) {
        p <- p + geom_text(aes(label = .data[[label]]), size = 3,
                           vjust = -1, check_overlap = TRUE,
                           show.legend = FALSE, colour = "black")
    }
    if (!is.null(spec$x$scale) && spec$x$scale == "log10") {
        p <- p + scale_x_log10()
    }
    if (!is.null(size)) {
        r <- if (!is.null(spec$size$range)) spec$size$range else c(1, 6)
        p <- p + scale_size_area(max_size = max(r))
    }
    if (!is.null(spec$color$palette) && spec$color$palette == "viridis") {
        p <- p + scale_colour_viridis_c()
    }
    p <- p + labs(title = spec$title, subtitle = spec$subtitle,
                  caption = spec$caption,
                  x = if (!is.null(spec$x$title)) spec$x$title else x,
                  y = if (!is.null(spec$y$title)) spec$y$title else y,
                  size = spec$size$title, colour = spec$color$title)
    if (!is.null(spec$legend$position)) {
        p <- p + theme(legend.position = spec$legend$position)
    }

    w <- if (is.null(spec$width)) 640 else spec$width
    h <- if (is.null(spec$height)) 480 else spec$height
    s <- if (is.null(spec$scale)) 1 else spec$scale

    if (device == "ragg") {
        ragg::agg_png(out, width = w * s, height = h * s, units = "px",
                      res = 96 * s)
    } else {
        png(out, width = w * s, height = h * s, units = "px", res = 96 * s,
            type = "cairo")
    }
    print(p)
    invisible(dev.off())
}

render()                                   # warm-up: loads fonts, code

ms <- numeric(0)
cpu0 <- proc.time()
start <- cpu0[["elapsed"]]
repeat {
    t0 <- proc.time()[["elapsed"]]
    render()
    t1 <- proc.time()[["elapsed"]]
    ms <- c(ms, (t1 - t0) * 1000)
    if (t1 - start >= seconds && length(ms) >= 3) break
}
cpu1 <- proc.time()
cpu <- (cpu1[["user.self"]] + cpu1[["sys.self"]]
        - cpu0[["user.self"]] - cpu0[["sys.self"]]) * 1000 / length(ms)

cat(sprintf(paste0("peer=ggplot2 device=%s spec=%s charts=%d ",
                   "ms_median=%.1f ms_mean=%.1f cpu_ms=%.1f ",
                   "charts_per_s=%.2f\n"),
            device, basename(spec_file), length(ms), median(ms), mean(ms),
            cpu, length(ms) / (cpu1[["elapsed"]] - start)))
