# title: Labels and tooltips on log-log axes
# shows: bubble_spec() with a label and a tooltip column (hover a bubble in the SVG), log10 on both axes, an outline (stroke), categories in a chosen order
planets <- data.frame(
  name = c("Mercury", "Venus", "Earth", "Mars", "Jupiter", "Saturn", "Uranus",
           "Neptune", "Ceres", "Pluto", "Eris"),
  distance_au = c(0.387, 0.723, 1, 1.524, 5.203, 9.537, 19.19, 30.07, 2.77, 39.48, 67.7),
  mass_earths = c(0.0553, 0.815, 1, 0.107, 317.8, 95.2, 14.5, 17.1, 0.00016, 0.0022, 0.0028),
  diameter_km = c(4879, 12104, 12756, 6792, 142984, 120536, 51118, 49528, 939, 2376, 2326),
  kind = factor(c(rep("rocky", 4), rep("gas giant", 2), rep("ice giant", 2), rep("dwarf", 3)),
                levels = c("rocky", "gas giant", "ice giant", "dwarf")))
planets$info <- sprintf("%s: %s, %g AU from the Sun, %g Earth masses",
                        planets$name, planets$kind, planets$distance_au, planets$mass_earths)
spec <- bubble_spec(planets, x = distance_au, y = mass_earths, size = diameter_km,
                    color = kind, label = name, tooltip = info,
                    title = "Planets and dwarf planets",
                    subtitle = "labels on the bubbles; hover a bubble in the SVG for its tooltip",
                    width = 760, height = 480,
                    stroke = list(color = "grey20", width = 0.5),
                    scales = list(x = list(title = "Mean distance from the Sun (AU)", scale = "log10"),
                                  y = list(title = "Mass (Earth = 1)", scale = "log10"),
                                  size = list(title = "Diameter (km)", range = c(1, 26)),
                                  color = list(title = "Kind")))
