app_name = "wallet"
urlpatterns: list = []
