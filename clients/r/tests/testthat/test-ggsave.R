# bubble_ggsave(): ggsave's arguments; drawn through a server when there is one.

library(ggplot2)

midwest_plot <- function() {
    ggplot(midwest, aes(area, poptotal, size = popdensity, colour = state)) +
        geom_point(alpha = 0.6) + scale_y_log10()
}

test_that("the same arguments and defaults as ggplot2::ggsave", {
    ours <- formals(bubble_ggsave)
    theirs <- formals(ggplot2::ggsave)
    common <- setdiff(names(theirs), "create.dir")
    expect_identical(ours[common], theirs[common])
    expect_identical(names(ours)[seq_along(common)], common)
    expect_identical(setdiff(names(ours), names(theirs)), c("server", "secret"))
})

test_that("formats, dpi, sizes and device arguments are checked before drawing", {
    p <- midwest_plot()
    srv <- "http://127.0.0.1:9/chart"       # nothing listens: nothing is drawn
    expect_error(bubble_ggsave("a.jpg", p, width = 7, height = 5, server = srv),
                 "draws png, svg and pdf, not jpg")
    expect_error(bubble_ggsave("a", p, width = 7, height = 5, server = srv), "no file extension")
    expect_error(bubble_ggsave("a.png", p, device = grDevices::png, server = srv),
                 "device is a function")
    expect_error(bubble_ggsave("a.png", p, width = 7, height = 5, dpi = "screen", server = srv),
                 "dpi = 72; ngx_bubble draws PNGs at 96 to 384 dpi")
    expect_error(bubble_ggsave("a.png", p, width = 7, height = 5, dpi = 600, server = srv),
                 "96 to 384 dpi")
    expect_error(bubble_ggsave("a.png", p, width = 70, height = 5, server = srv),
                 "exceed 50 inches")
    expect_error(bubble_ggsave("a.png", p, width = 7, height = 5, res = 72, server = srv),
                 "`res`: arguments for a graphics device")
    expect_error(bubble_ggsave("a.png", p + annotate("text", x = 0.05, y = 1e5, label = "a"),
                               width = 7, height = 5, server = srv),
                 class = "bubble_unsupported")
    expect_error(bubble_ggsave("a.png", mtcars, server = srv), "must be a ggplot")
})

test_that("a 7 x 5 in PNG at 100 dpi is 700 x 500 pixels, drawn by the server", {
    srv <- test_server()
    f <- tempfile(fileext = ".png")
    expect_identical(bubble_ggsave(f, midwest_plot(), width = 7, height = 5, dpi = 100,
                                   server = srv), f)
    expect_equal(bubble_png_size(f), c(width = 700, height = 500))
    img <- png::readPNG(f)
    expect_equal(dim(img)[1:2], c(500, 700))
})

test_that("ggsave's units, scale, dpi strings, path, and the last plot", {
    srv <- test_server()
    dir <- tempfile()
    dir.create(dir)
    p <- midwest_plot()
    bubble_ggsave("cm.png", p, path = dir, width = 12.7, height = 10.16, units = "cm",
                  dpi = 150, server = srv)
    expect_equal(bubble_png_size(file.path(dir, "cm.png")), c(width = 750, height = 600))
    bubble_ggsave(file.path(dir, "px.png"), p, width = 1000, height = 600, units = "px",
                  dpi = 200, server = srv)
    expect_equal(bubble_png_size(file.path(dir, "px.png")), c(width = 1000, height = 600))
    bubble_ggsave(file.path(dir, "scale.png"), p, width = 4, height = 3, scale = 1.5,
                  dpi = "retina", server = srv)
    expect_equal(bubble_png_size(file.path(dir, "scale.png")), c(width = 1920, height = 1440))
    ggplot2::set_last_plot(p)
    grDevices::pdf(NULL, width = 6, height = 4)
    on.exit(grDevices::dev.off())
    expect_message(bubble_ggsave(file.path(dir, "last.png"), dpi = 96, server = srv),
                   "Saving 6 x 4 in image")
    expect_equal(bubble_png_size(file.path(dir, "last.png")), c(width = 576, height = 384))
})

test_that("SVG and PDF have the size ggsave gives them", {
    srv <- test_server()
    f <- tempfile(fileext = ".svg")
    bubble_ggsave(f, midwest_plot(), width = 7, height = 5, server = srv)
    svg <- paste(readLines(f, warn = FALSE), collapse = "\n")
    expect_equal(svg_size(svg), c(width = 672, height = 480))
    f <- tempfile(fileext = ".pdf")
    bubble_ggsave(f, midwest_plot(), width = 7, height = 5, server = srv)
    pdf <- readBin(f, "raw", file.size(f))
    expect_identical(rawToChar(pdf[1:5]), "%PDF-")
    expect_equal(pdf_page_size(pdf), c(width = 504, height = 360))
    f <- tempfile(fileext = ".out")
    bubble_ggsave(f, midwest_plot(), device = "svg", width = 3, height = 2, server = srv)
    expect_match(readLines(f, n = 2, warn = FALSE)[2], "<svg")
})

test_that("dropped rows give ggplot2's warning; bg sets the background", {
    srv <- test_server()
    df <- data.frame(x = c(1, 2, NA, 4), y = c(1, NA, 3, 4))
    p <- ggplot(df, aes(x, y)) + geom_point()
    f <- tempfile(fileext = ".png")
    expect_warning(suppressMessages(bubble_ggsave(f, p, width = 4, height = 3, dpi = 96,
                                                  bg = "transparent", server = srv)),
                   "Removed 2 rows")
    img <- png::readPNG(f)
    expect_equal(dim(img), c(288, 384, 4))
    expect_equal(img[1, 1, 4], 0)                 # transparent corner
})
