# Charts in web pages: <img> tags whose src is the chart's URL, so that
# the browser fetches the image from nginx and R never rasterises.

# The spec of what a page shows: a ggplot at the given size, or a spec
# (or JSON string) as it is, its size filled in when it has none.
bubble_page_spec <- function(x, width, height, scale) {
    width <- max(16L, as.integer(round(width)))
    height <- max(16L, as.integer(round(height)))
    scale <- min(4, max(1, scale))
    if (inherits(x, "ggplot")) {
        return(bubble_from_ggplot(x, width = width, height = height,
                                  scale = if (scale != 1) scale))
    }
    if (is.character(x) && length(x) == 1) {
        return(x)
    }
    if (!is.list(x) || is.null(names(x))) {
        stop("a chart is a ggplot, a spec (named list) or a JSON string", call. = FALSE)
    }
    x$width <- x$width %||% width
    x$height <- x$height %||% height
    if (is.null(x$scale) && scale != 1) x$scale <- scale
    x
}

# The src of an <img>: the chart's URL, or, when the URL would be longer
# than a URL may be, the image fetched by POST as a data: URI.
bubble_img_src <- function(spec, server, secret, format) {
    json <- bubble_spec_json(spec)
    url <- bubble_url(json, server, secret = secret, format = format)
    if (nchar(url, type = "bytes") <= bubble_max_url()) {
        return(url)
    }
    r <- bubble_fetch(json, server, format, secret = secret, method = "post")
    paste0("data:", if (format == "svg") "image/svg+xml" else "image/png", ";base64,",
           openssl::base64_encode(r$body, linebreaks = FALSE))
}

bubble_alt <- function(spec, alt) {
    if (!is.null(alt)) return(alt)
    if (is.list(spec) && is.character(spec$title)) return(spec$title)
    "chart"
}

#' A chart as an `<img>` tag (knitr, Quarto, R Markdown, HTML)
#'
#' An `<img>` tag whose `src` is the chart's URL on the ngx_bubble server
#' ([bubble_url()], signed when a secret is set), so that the reader's
#' browser fetches the image from nginx: the R process that knits the
#' document, or serves the page, never rasterises the chart. In a knitr or
#' Quarto chunk of an HTML document the tag is the chunk's output. A spec
#' too long for a URL (over `getOption("ngxbubble.max_url", 8000)` bytes)
#' is fetched by R and embedded as a `data:` URI instead.
#'
#' The `server` must be a URL the browser can reach: the page's readers
#' fetch the image, not R.
#'
#' @param x a ggplot, a spec (see [bubble_spec()]) or a JSON string.
#' @param server URL of a location with `bubble;` (see [bubble_server()]).
#' @param secret the location's `bubble_url_secret`, or `NULL`.
#' @param format `"png"` or `"svg"`.
#' @param width,height the chart's size in CSS pixels (a spec's own
#'   `width` and `height` win).
#' @param scale device pixel ratio of a PNG (1 to 4): 2 for sharp images on
#'   high-density screens.
#' @param alt the image's alternative text; by default the chart's title.
#' @return an [htmltools::tags] `<img>` tag.
#' @examples
#' library(ggplot2)
#' p <- ggplot(mtcars, aes(wt, mpg, size = hp)) + geom_point() +
#'     labs(title = "Motor Trend cars")
#' tag <- bubble_img(p, server = "https://charts.example.com/chart", width = 600,
#'                   height = 400, scale = 2)
#' tag$attribs$src
#'
#' # in an R Markdown or Quarto chunk, the tag is shown as the image:
#' # ```{r}
#' # options(ngxbubble.server = "https://charts.example.com/chart")
#' # bubble_img(p)
#' # ```
#' @export
bubble_img <- function(x, server = bubble_server(), secret = bubble_secret(),
                       format = c("png", "svg"), width = 800, height = 600, scale = 1,
                       alt = NULL) {
    format <- match.arg(format)
    spec <- bubble_page_spec(x, width, height, scale)
    w <- if (is.list(spec)) spec$width else width
    h <- if (is.list(spec)) spec$height else height
    htmltools::tags$img(src = bubble_img_src(spec, server, secret, format),
                        width = w, height = h, alt = bubble_alt(spec, alt),
                        class = "ngxbubble")
}

bubble_dependency <- function() {
    htmltools::htmlDependency(
        "ngxbubble", as.character(utils::packageVersion("ngxbubble")),
        src = "www", package = "ngxbubble", script = "ngxbubble-shiny.js")
}

#' Shiny output of charts drawn by nginx
#'
#' `bubbleOutput()` in the UI and `renderBubble()` in the server function
#' show a chart as an `<img>` whose `src` is the chart's URL on the
#' ngx_bubble server: the browser fetches the image from nginx, and the
#' Shiny process never rasterises it (no R graphics device, no memory
#' spike per plot). The chart has the size of the output element, at the
#' screen's pixel ratio, as [shiny::renderPlot()] gives.
#'
#' `expr` returns a ggplot (converted with [bubble_from_ggplot()]), a
#' spec (see [bubble_spec()]) or a JSON string; `NULL` shows nothing.
#'
#' @param outputId the output's name.
#' @param width,height the element's CSS size.
#' @param expr an expression returning a ggplot, a spec or a JSON string.
#' @param env the environment in which to evaluate `expr`.
#' @param quoted is `expr` a quoted expression?
#' @param server URL of a location with `bubble;` that the browser can
#'   reach (see [bubble_server()]).
#' @param secret the location's `bubble_url_secret`, or `NULL`.
#' @param format `"png"` or `"svg"`.
#' @param alt the image's alternative text; by default the chart's title.
#' @return `bubbleOutput()`: a tag for the UI; `renderBubble()`: a render
#'   function for an output.
#' @examples
#' if (interactive() && requireNamespace("shiny", quietly = TRUE)) {
#'     library(shiny)
#'     library(ggplot2)
#'     ui <- fluidPage(
#'         sliderInput("n", "cars", 5, nrow(mtcars), nrow(mtcars)),
#'         bubbleOutput("chart")
#'     )
#'     server <- function(input, output, session) {
#'         output$chart <- renderBubble({
#'             ggplot(head(mtcars, input$n), aes(wt, mpg, size = hp)) + geom_point()
#'         })
#'     }
#'     shinyApp(ui, server)
#' }
#' @export
bubbleOutput <- function(outputId, width = "100%", height = "400px") {
    tag <- htmltools::div(
        id = outputId, class = "ngxbubble-output shiny-report-size",
        style = sprintf("width: %s; height: %s;", htmltools::validateCssUnit(width),
                        htmltools::validateCssUnit(height)))
    htmltools::attachDependencies(tag, bubble_dependency())
}

#' @rdname bubbleOutput
#' @export
renderBubble <- function(expr, env = parent.frame(), quoted = FALSE,
                         server = bubble_server(), secret = bubble_secret(),
                         format = c("png", "svg"), alt = NULL) {
    if (!requireNamespace("shiny", quietly = TRUE)) {
        stop("renderBubble needs the shiny package", call. = FALSE)
    }
    format <- match.arg(format)
    if (!quoted) expr <- substitute(expr)
    func <- shiny::exprToFunction(expr, env, quoted = TRUE)
    shiny::createRenderFunction(func, function(value, session, name, ...) {
        if (is.null(value)) {
            return(NULL)
        }
        cd <- function(what) do.call("$", list(session$clientData, what))
        w <- cd(paste0("output_", name, "_width"))
        h <- cd(paste0("output_", name, "_height"))
        if (is.null(w) || is.null(h) || w <= 0 || h <= 0) {
            w <- 800
            h <- 600
        }
        spec <- bubble_page_spec(value, w, h, cd("pixelratio") %||% 1)
        list(src = bubble_img_src(spec, server, secret, format),
             width = if (is.list(spec)) spec$width else round(w),
             height = if (is.list(spec)) spec$height else round(h),
             alt = bubble_alt(spec, alt))
    }, bubbleOutput, list())
}
