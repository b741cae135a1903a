from django.urls import path

from pickup import views

app_name = "pickup"
urlpatterns = [
    path("counter/", views.counter, name="counter"),
    path("issue/", views.issue, name="issue"),
    path("queue/", views.queue, name="queue"),
    path("qr/<str:token>/", views.qr, name="qr"),
    path("orders/<int:order_pk>/regenerate/", views.regenerate, name="regenerate"),
    path("orders/<int:order_pk>/put-back/", views.put_back, name="put-back"),
]
