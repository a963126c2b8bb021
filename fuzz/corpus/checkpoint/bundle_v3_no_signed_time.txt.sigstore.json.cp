rekor.sigstore.dev - 1193050959916656506
32658497
IbC2+n9aYhFlm5nFwkp+j7/Hc9XuYWxyE5OlXIoIijY=

— rekor.sigstore.dev wNI9ajBGAiEAgjFaCZlVvHUnDgxLf+4XjN6ahWNkkKh9QFTOqHBpyw4CIQDmy4JQs+2BKtvheo/HQogyhh5EYGYZeBDdRvyyX1fg+w==
