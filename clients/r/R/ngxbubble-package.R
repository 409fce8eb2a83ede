#' ngxbubble: ggplot2 bubble charts drawn by nginx
#'
#' ngx_bubble is an nginx module that draws bubble charts looking like
#' ggplot2's (PNG, SVG, PDF) inside nginx workers, from a JSON spec
#' (`docs/spec.md` in the ngx_bubble repository). This package is its R
#' client.
#'
#' * [bubble_ggsave()] is [ggplot2::ggsave()] with the chart drawn by
#'   the server: swap one for the other in a script.
#' * [bubble_png()], [bubble_svg()], [bubble_pdf()] fetch a chart as a raw
#'   vector or a string; [bubble_url()] mints its URL.
#' * [bubble_spec()] and [bubble_from_ggplot()] make specs from a
#'   data.frame or a ggplot.
#' * [bubble_img()], [bubbleOutput()] and [renderBubble()] put charts in
#'   web pages (knitr, Quarto, Shiny) as `<img>` tags whose `src` is the
#'   chart's URL: the browser fetches the image from nginx and R never
#'   rasterises it.
#'
#' @section Server and secret:
#' Functions that talk to a server take `server`, the URL of an nginx
#' location with `bubble;` (such as `"http://127.0.0.1:8080/chart"`), and
#' `secret`, the location's `bubble_url_secret`. Their defaults come from
#' options and environment variables; see [bubble_server()].
#'
#' @section Options:
#' * `ngxbubble.server`: the default server (else `NGXBUBBLE_SERVER`).
#' * `ngxbubble.secret`: the signing secret (else `NGXBUBBLE_SECRET`).
#' * `ngxbubble.strict`: the default of [bubble_from_ggplot()]'s `strict`
#'   (`TRUE`: what the server cannot draw is an error).
#' * `ngxbubble.max_url`: URLs longer than this many bytes are POSTed
#'   instead (default 8000, nginx's default limit is 8 KiB).
#'
#' @keywords internal
#' @importFrom ggplot2 last_plot
"_PACKAGE"

`%||%` <- function(a, b) if (is.null(a)) b else a
