"""fashion: Fashion-MNIST through the whole TensorFlow 2 serving path, as a pytest suite.

Importing the package is cheap on purpose: TensorFlow and Keras are imported by the modules that
need them, so the model server and the client never pay for Keras.
"""

__all__ = ["__version__"]

__version__ = "0.1.0"
