"""The build side: article -> mentions -> places -> the dataset's rows (`pipeline.build`).

Only this side imports geopy, the gazetteer and the word lists; the serve side never imports it.
"""
