app_name = "pickup"
urlpatterns: list = []
