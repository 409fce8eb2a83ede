# title: theme_classic() and a Brewer palette
# shows: bubble_from_ggplot() of theme_classic(), scale_colour_brewer(palette = "Dark2"), scale_radius() (radius linear in the value)
p <- ggplot(iris, aes(Sepal.Length, Petal.Length, size = Petal.Width, colour = Species)) +
  geom_point(alpha = 0.6) +
  scale_colour_brewer(palette = "Dark2") +
  scale_radius(range = c(1, 7), name = "Petal width (cm)") +
  labs(title = "Iris: sepal and petal length",
       x = "Sepal length (cm)", y = "Petal length (cm)") +
  theme_classic()
spec <- bubble_from_ggplot(p, width = 720, height = 480)
